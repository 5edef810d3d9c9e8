// Strings and Intl formatters for one reader's language.
import en from "./i18n/en.js";

// Replaced by build.py with the names of the files in i18n/, so adding a
// language is adding one file and nothing else.
const LANGS = "__ROSTRA_LANGS__".split(",");

/** Languages written right to left: the whole interface turns for them. */
export const RTL = ["ar", "he", "fa", "ur"];

/**
 * The first language stated among the candidates ("de-AT" -> "de") if we ship it, else
 * English: a page in a language we lack reads better in English than in the browser's.
 */
export function pickLang(...candidates) {
  const stated = candidates.find(Boolean);
  const base = String(stated || "en").toLowerCase().split(/[-_]/)[0];
  return LANGS.includes(base) ? base : "en";
}

const UNITS = [
  ["year", 31536000], ["month", 2592000], ["week", 604800],
  ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1],
];

/** Load the strings of `lang` and return a translator bound to it. */
export async function loadStrings(lang) {
  let strings = en;
  if (lang !== "en") {
    try {
      strings = { ...en, ...(await import(`./i18n/${lang}.js`)).default };
    } catch {
      lang = "en"; // a broken or missing file must not break the discussion
    }
  }
  return new Translator(lang, strings);
}

export class Translator {
  constructor(lang, strings) {
    this.lang = lang;
    this.strings = strings;
    this.plural = new Intl.PluralRules(lang);
    this.number = new Intl.NumberFormat(lang);
    this.relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    this.exact = new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
  }

  /** The message `key` with {placeholders} filled; numbers get plural forms. */
  t(key, vars = {}) {
    let msg = this.strings[key] ?? en[key] ?? key;
    if (typeof msg === "object") {
      msg = msg[this.plural.select(vars.n ?? 0)] ?? msg.other;
    }
    return msg.replace(/\{(\w+)\}/g, (_, name) => {
      const v = vars[name];
      return typeof v === "number" ? this.number.format(v) : String(v ?? "");
    });
  }

  /** "3 hours ago" for a Date, relative to `now` (ms). */
  ago(date, now = Date.now()) {
    const secs = Math.round((date.getTime() - now) / 1000);
    const abs = Math.abs(secs);
    for (const [unit, size] of UNITS) {
      if (abs >= size || unit === "second") {
        return this.relative.format(Math.trunc(secs / size), unit);
      }
    }
    return "";
  }
}
