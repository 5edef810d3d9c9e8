// The HTTP client of the widget: one place that knows headers and errors.

/**
 * An error answer from the server, or `network` when there was none. `detail` and
 * `reasons` come from the problem+json body, `retryAfter` (seconds) from its header.
 */
export class ApiError extends Error {
  constructor(code, status, detail, problem = null, retryAfter = 0) {
    super(detail || code);
    this.code = code;
    this.status = status;
    this.detail = detail || "";
    this.reasons = (problem && problem.reasons) || [];
    this.retryAfter = retryAfter;
    // "email: not an email address": the field the server names, and a limit it states
    const first = problem && problem.errors && problem.errors[0];
    const named = /^([a-z_]+)[.:]/.exec(this.detail);
    this.field = (first && first.field) || (problem && problem.field) || (named && named[1]) || "";
    const most = /at most (\d+)/.exec(this.detail);
    this.limit = most ? +most[1] : 0;
  }
}

/**
 * The reader the host site signed in (the `sso` attribute), as the page's payload names
 * them: {name, email}. Only for showing; the server checks the signature.
 */
export function accountOf(sso) {
  try {
    const body = sso.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(body), (ch) => ch.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && claims.name ? { name: String(claims.name), email: claims.email ? String(claims.email) : "" } : null;
  } catch {
    return null;
  }
}

export class Api {
  /**
   * @param {string} base the server's base URL, ending in "/"
   * @param {object} headers sent with every call (the sign-on payload)
   */
  constructor(base, headers = {}) {
    this.base = base;
    this.headers = headers;
  }

  url(path, params) {
    const u = new URL(path.replace(/^\//, ""), this.base);
    for (const [k, v] of params || []) if (v != null && v !== "") u.searchParams.append(k, v);
    return u.href;
  }

  /**
   * fetch() a JSON API route; throw ApiError with the problem+json `code`. `onStale`
   * is called when the answer is a page from just before a write (X-Rostra-Stale-Ms).
   */
  async call(method, path, { params, body, headers = {}, onStale = null } = {}) {
    const init = { method, headers: { Accept: "application/json", ...this.headers, ...headers }, credentials: "omit" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(this.url(path, params), init);
    } catch {
      throw new ApiError("network", 0);
    }
    if (res.status === 204) return null;
    if (onStale && res.headers.get("X-Rostra-Stale-Ms")) onStale();
    let data = null;
    try {
      data = await res.json();
    } catch {
      // an empty or non-JSON body: a proxy's error page, say
    }
    if (!res.ok) {
      const code = (data && data.code) || (res.status === 413 ? "payload_too_large" : res.status === 429 ? "rate_limited" : "generic");
      const wait = parseInt(res.headers.get("Retry-After") || "", 10);
      throw new ApiError(code, res.status, data && data.detail, data, wait > 0 ? wait : 0);
    }
    return data;
  }
}
