// api.js — owns the console's talk with the Weft server: the credentials (kept in
// sessionStorage), every request's headers (Basic auth, X-Requested-With), the error
// types, and the calls: /console/config, /console/cluster and Neo4j's HTTP
// transactional API (begin, run in / commit a transaction, roll back, auto-commit).
// Query text only ever travels in request bodies, never in a URL.
(function () {
  "use strict";

  const CREDENTIALS_KEY = "weft.console.credentials";

  /** A failed call: `code` is a Neo4j status code (or a console one), `response` the
   *  parsed body if the server sent one. */
  class ApiError extends Error {
    constructor(code, message, response) {
      super(message);
      this.name = "ApiError";
      this.code = code;
      this.response = response || null;
    }
  }

  /** A 401: the credentials are missing or wrong. */
  class AuthError extends ApiError {
    constructor(message, response) {
      super("Neo.ClientError.Security.Unauthorized", message, response);
      this.name = "AuthError";
    }
  }

  function firstError(json) {
    return json && Array.isArray(json.errors) && json.errors.length ? json.errors[0] : null;
  }

  function base64Utf8(text) {
    const bytes = new TextEncoder().encode(text);
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  }

  const api = {
    ApiError,
    AuthError,
    firstError,
    /** The database the transactional API is addressed to; set from /console/config. */
    database: "neo4j",
    /** Called (with the server's message) whenever a call is answered with 401. */
    onUnauthorized: function () {},

    credentials() {
      try {
        const saved = JSON.parse(sessionStorage.getItem(CREDENTIALS_KEY) || "null");
        return saved && typeof saved.user === "string" ? saved : null;
      } catch (_) {
        return null;
      }
    },
    setCredentials(user, password) {
      sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify({ user, password }));
    },
    clearCredentials() {
      sessionStorage.removeItem(CREDENTIALS_KEY);
    },

    /** One request; resolves to `{status, headers, json}`. Throws AuthError on 401,
     *  ApiError when the server cannot be reached or answers an error without a
     *  Neo4j `errors` list; an AbortError passes through. A 4xx/5xx whose body has
     *  `errors` resolves, so callers show those errors like a statement's. */
    async request(method, path, body, signal) {
      const headers = { Accept: "application/json", "X-Requested-With": "weft-console" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const saved = api.credentials();
      if (saved) headers.Authorization = "Basic " + base64Utf8(saved.user + ":" + saved.password);
      let res;
      try {
        res = await fetch(path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
          credentials: "same-origin",
          cache: "no-store",
        });
      } catch (e) {
        if (e && e.name === "AbortError") throw e;
        throw new ApiError("Weft.Console.NetworkError", "Cannot reach the server: " + e.message);
      }
      const text = await res.text();
      let json = null;
      if (text) {
        try {
          json = JSON.parse(text);
        } catch (_) {
          json = null;
        }
      }
      if (res.status === 401) {
        const error = firstError(json);
        const message = (error && error.message) || "Authentication required.";
        api.onUnauthorized(message);
        throw new AuthError(message, json);
      }
      if (json === null && (text || !res.ok)) {
        throw new ApiError("HTTP " + res.status, (text || res.statusText || "request failed").slice(0, 500));
      }
      if (!res.ok && !firstError(json)) {
        throw new ApiError("HTTP " + res.status, res.statusText || "request failed", json);
      }
      return { status: res.status, headers: res.headers, json: json || {} };
    },

    /** `{auth_required, version, database}`; needs no credentials. */
    async config() {
      return (await api.request("GET", "/console/config")).json;
    },

    /** `{mode, role, members}` of the cluster this server belongs to. */
    async cluster() {
      return (await api.request("GET", "/console/cluster")).json;
    },

    txPath() {
      return "/db/" + encodeURIComponent(api.database) + "/tx";
    },

    /** A statement as the transactional API takes it, asking for rows, graph and stats. */
    statement(text, parameters, contents) {
      return {
        statement: text,
        parameters: parameters || {},
        resultDataContents: contents || ["row", "graph"],
        includeStats: true,
      };
    },

    /** Opens an explicit transaction. Resolves to `{id, json}`; `id` is null when the
     *  answer carries errors (they are in `json.errors`). */
    async begin(signal) {
      const res = await api.request("POST", api.txPath(), { statements: [] }, signal);
      if (firstError(res.json)) return { id: null, json: res.json };
      const commit = res.json.commit || res.headers.get("Location") || "";
      const match = /\/tx\/([^/?#]+)(?:\/commit)?\/?(?:[?#].*)?$/.exec(commit);
      if (!match) {
        throw new ApiError("Weft.Console.ProtocolError",
          "The server opened a transaction but named no id (commit: " + JSON.stringify(commit) + ").", res.json);
      }
      return { id: decodeURIComponent(match[1]), json: res.json };
    },

    /** Runs `statements` in transaction `id` and commits it; resolves to the body. */
    async commitIn(id, statements, signal) {
      const path = api.txPath() + "/" + encodeURIComponent(id) + "/commit";
      return (await api.request("POST", path, { statements }, signal)).json;
    },

    /** Rolls transaction `id` back (stopping a statement of it that is running). */
    async rollback(id) {
      return (await api.request("DELETE", api.txPath() + "/" + encodeURIComponent(id))).json;
    },

    /** Runs one statement in its own auto-committed transaction; resolves to the body. */
    async run(text, parameters, contents) {
      const body = { statements: [api.statement(text, parameters, contents)] };
      return (await api.request("POST", api.txPath() + "/commit", body)).json;
    },

    /** Checks the saved credentials with a trivial read; throws AuthError if wrong. */
    async ping() {
      const json = await api.run("RETURN 1 AS ok", {}, ["row"]);
      const error = firstError(json);
      if (error) throw new ApiError(error.code, error.message, json);
    },
  };

  window.Weft = window.Weft || {};
  window.Weft.api = api;
})();
