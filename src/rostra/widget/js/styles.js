// The widget's stylesheet, adopted inside its Shadow DOM so the host page
// cannot break it. Hosts theme it through the --rostra-* custom properties,
// which inherit through the shadow boundary.
export const css = `
:host{display:block;contain:content}
:host([hidden]){display:none}
.r{--a:var(--rostra-accent,#0a58ca);--on-a:var(--rostra-on-accent,#fff);--fg:var(--rostra-fg,#1c1e21);--bg:var(--rostra-bg,#fff);
--mut:var(--rostra-muted,#595f66);--bd:var(--rostra-border,#d3d7dc);--sf:var(--rostra-surface,#f4f5f7);--hl:var(--rostra-highlight,#fff4c2);
--rad:var(--rostra-radius,6px);font:var(--rostra-font-size,16px)/1.5 var(--rostra-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);
color:var(--fg);background:var(--bg);padding:var(--rostra-padding,1em);border-radius:var(--rad);color-scheme:light}
.r.dark{--a:var(--rostra-accent-dark,#8ab4ff);--on-a:var(--rostra-on-accent-dark,#0b1220);--fg:var(--rostra-fg-dark,#e6e8eb);--bg:var(--rostra-bg-dark,#16181c);
--mut:var(--rostra-muted-dark,#a9b0b9);--bd:var(--rostra-border-dark,#3a3f47);--sf:var(--rostra-surface-dark,#22252b);--hl:var(--rostra-highlight-dark,#4a3f12);color-scheme:dark}
*{box-sizing:border-box}
[hidden]{display:none!important}
h2{font-size:1.25em;margin:0 0 .75em}
a{color:var(--a)}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer;border:1px solid var(--bd);background:var(--sf);border-radius:var(--rad);padding:.3em .8em}
button:hover{border-color:var(--a)}
[aria-disabled=true]{opacity:.6;cursor:default}
.primary{background:var(--a);color:var(--on-a);border-color:var(--a);font-weight:600}
.link{border:0;background:none;padding:.2em .3em;color:var(--mut);font-size:.9em}
.link:hover{color:var(--a);text-decoration:underline}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
form{display:grid;gap:.4em;margin:0 0 1.25em}
.who{display:grid;grid-template-columns:1fr 1fr;gap:.4em .8em}
.who div{display:grid;gap:.2em}
.signed{margin:0}
.em{display:flex;flex-wrap:wrap;gap:.4em;align-items:center;margin-bottom:.6em}.em .ok{flex-basis:100%;margin:0}
.acct h3{font-size:1em;margin:.3em 0}.ss{list-style:none;padding:0;margin:0 0 .4em}
@media (max-width:480px){.who{grid-template-columns:1fr}}
label{font-size:.9em;font-weight:600}
label small{font-weight:400;color:var(--mut)}
input,textarea{width:100%;border:1px solid var(--bd);border-radius:var(--rad);background:var(--bg);padding:.45em .6em}
textarea{min-height:6em;resize:vertical}
.fold>.fo,.fs:has(.fold)+.nbs,form:not(.fold)>.unf{display:none}
.fold{grid-template-columns:1fr auto;align-items:end}.fold>textarea{grid-column:1/-1;min-height:0;height:2.7em;resize:none}.unf{grid-area:1/2;margin:-.2em 0}::placeholder{color:var(--mut)}
.fo{display:grid;gap:.4em}
.pv{border:1px dashed var(--bd);border-radius:var(--rad);padding:.2em .8em;min-height:6em}
.hint{margin:0;font-size:.85em;color:var(--mut)}
.err{margin:0;color:var(--rostra-error,#b3261e);font-weight:600}
.err:empty{display:none}
.cnt{margin:0;font-size:.85em;color:var(--mut);text-align:end}
.cnt.over{color:var(--rostra-error,#b3261e);font-weight:600}
[aria-invalid=true]{border-color:var(--rostra-error,#b3261e)}
.dark .err{color:var(--rostra-error-dark,#ffb4ab)}
.btns{display:flex;gap:.5em;flex-wrap:wrap}
.tabs{display:flex;flex-wrap:wrap;gap:.25em;border-bottom:1px solid var(--bd);margin:0 0 1em}
.tabs button{white-space:nowrap;border:0;border-bottom:3px solid transparent;border-radius:0;background:none;padding:.4em .7em;color:var(--mut)}
.tabs [aria-selected=true]{color:var(--fg);border-bottom-color:var(--a);font-weight:600}
ol{list-style:none;margin:0;padding:0}
.c{margin:0}
.list>.c{padding:.4em 0}.list>.c+.c{border-top:1px solid var(--bd)}
.list>.c{content-visibility:auto;contain-intrinsic-size:auto 9em}
.c>article{--cb:var(--bg);position:relative;padding:.5em .3em .4em;padding-inline-start:3.2em;border-radius:var(--rad);background:var(--cb)}
.av{position:absolute;inset-inline-start:.3em;top:.45em;width:2.1em;height:2.1em;border-radius:50%;display:grid;place-items:center;
font-size:.85em;font-weight:700;color:#fff;background:hsl(var(--h,210) 50% 32%);user-select:none}
.au{order:-2}.ab:empty{display:none}
.ab{order:-1;font-size:.75em;font-weight:600;padding:0 .45em;border-radius:1em;background:var(--bg);color:var(--mut);border:1px solid var(--bd)}
.ab.st{background:var(--a);color:var(--on-a);border-color:var(--a)}
.clip{max-height:14em;overflow:hidden;position:relative}
.clip .rm{position:absolute;bottom:0;inset-inline:0;width:100%;text-align:start;padding:2.5em 0 .1em;
background:linear-gradient(transparent,var(--cb) 65%);color:var(--a);font-weight:600}
.c.hl>article{--cb:var(--hl);box-shadow:0 0 0 2px var(--a)}
.c .c{margin:.3em 0 0}
.rp .c>article{padding-block:.4em .2em}
.rp{margin-inline-start:1.2em;padding-inline-start:.8em;border-inline-start:2px solid var(--bd)}
.d4 .rp{margin-inline-start:0;padding-inline-start:0;border-inline-start:0}
@media (max-width:480px){.rp{margin-inline-start:.5em;padding-inline-start:.4em}.c>article{padding-inline-start:2.9em}.tabs button{padding:.4em .45em;font-size:.92em}.r{padding:var(--rostra-padding,.75em)}}
.meta{display:flex;gap:.6em;flex-wrap:wrap;align-items:baseline;font-size:.9em}
.au{font-weight:700}.au a{color:inherit}
.meta a{color:var(--mut);text-decoration:none}
.meta a:hover{text-decoration:underline}
.badge{font-size:.8em;padding:0 .5em;border-radius:1em;border:1px solid var(--mut);color:var(--mut)}
.badge:empty{display:none}
.body{overflow-wrap:anywhere}
.body p{margin:.4em 0}
.body pre{overflow:auto;background:var(--sf);padding:.5em;border-radius:var(--rad)}
.body blockquote{margin:.4em 0;padding-inline-start:.8em;border-inline-start:3px solid var(--bd);color:var(--mut)}
.tomb>article>.body{color:var(--mut);font-style:italic}
.picked>article{--cb:color-mix(in srgb,var(--a) 9%,var(--bg));padding-inline-end:.8em;border-inline-start:3px solid var(--a)}
.picked>article .badge{border-color:var(--a);background:var(--a);color:var(--on-a);font-weight:600}
.quote{margin:.2em 0;padding-inline-start:.8em;border-inline-start:3px solid var(--a);font-style:italic}
aside.note{margin:.6em 0 .2em;padding:.5em .8em;border:1px solid var(--a);border-radius:.4em;font-size:.92em}
.note-h{color:var(--mut);font-size:.9em}.note-h strong{color:var(--a)}
.note-b>:first-child{margin-top:.2em}.note-b>:last-child{margin-bottom:.2em}
.note-src{margin:.2em 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:.3em .8em;font-size:.9em}
.acts{display:flex;gap:.3em;align-items:center;flex-wrap:wrap;margin-top:.2em}
.votes{display:inline-flex;align-items:center;gap:.15em;margin-inline-end:.4em}
.votes button{border:0;background:none;padding:.1em .4em;color:var(--mut);line-height:1;min-width:24px;min-height:24px}
.votes [aria-pressed=true]{color:var(--a)}
.sc{min-width:1.5em;text-align:center;font-variant-numeric:tabular-nums;font-weight:600}
[data-s=z]{color:var(--mut);font-weight:400}[data-s=n]{color:var(--rostra-error,#b3261e)}.dark [data-s=n]{color:var(--rostra-error-dark,#ffb4ab)}
.more{display:flex;gap:.6em;justify-content:center;margin:1em 0}
.note{color:var(--mut)}
select{font:inherit;color:inherit;border:1px solid var(--bd);border-radius:var(--rad);background:var(--bg);padding:.3em .4em}
.nb{display:flex;flex-wrap:wrap;align-items:center;gap:.4em .6em;padding:.5em .8em;background:var(--sf);border-radius:var(--rad);font-size:.9em}
.nb input{width:auto;flex:1 1 12em}
.nb p{flex-basis:100%}
.ok{margin:0;font-weight:600}
.ok:empty{display:none}
.nudge{border:1px solid var(--a);border-radius:var(--rad);padding:.2em .8em .6em}
fieldset{border:1px solid var(--bd);border-radius:var(--rad);margin:0;padding:.3em .8em .5em;display:flex;flex-wrap:wrap;gap:.2em 1.2em}
legend{font-size:.9em;font-weight:600;padding:0 .3em}
fieldset label{font-weight:400}
fieldset input{width:auto}
.rf{margin:.5em 0 0}
.nf{margin:.5em 0 0;display:grid;gap:.4em}.nf h3{font-size:1em;margin:0}
.nq{margin:0;padding:0;list-style:none;display:grid;gap:.5em}
.nq>li{padding:.4em .6em;border:1px solid var(--bd);border-radius:var(--rad)}
.nf form{display:grid;gap:.3em}.nf textarea{min-height:3em}
button[aria-pressed="true"]{border-color:var(--a);color:var(--a)}
.rf select{padding:.4em;max-width:100%}
.sor{border:1px solid var(--bd);border-inline-start:3px solid var(--rostra-error,#b3261e);border-radius:var(--rad);padding:.2em .8em .6em;margin:0 0 1em}
.fresh{text-align:center}
.fresh button{margin:0 0 1em;font-weight:600;border-color:var(--a)}
@media (prefers-reduced-motion:no-preference){.c.hl>article{transition:background .6s}}
`;
