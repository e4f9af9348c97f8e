// app.js — owns the console's flow: start-up (/console/config, then the login form if
// the server wants credentials), logging in and out, running the editor's query in an
// explicit transaction (begin, then commit with the statement) with a spinner, elapsed
// time and Cancel (DELETE of the transaction), showing the answer (error box, summary,
// Table / Graph / Plan tabs), expanding a double-clicked node, and `window.weftConsole`
// for the browser tests ({cy, lastResult, editor, running}).
(function () {
  "use strict";

  const { api, render, graph, panels, editor } = window.Weft;
  const $ = (id) => document.getElementById(id);
  const TABS = ["table", "graph", "plan"];

  const weftConsole = (window.weftConsole = { cy: null, lastResult: null, editor: null, running: false });
  const state = {
    config: null,
    opened: false,
    /** The query running now: {id, cancelled, started, controller}. */
    run: null,
    timer: null,
    /** The tab the user last chose between Table and Graph. */
    preferredTab: "table",
  };

  // ---- start-up, login, logout --------------------------------------------------------

  async function boot() {
    $("boot-error").hidden = true;
    try {
      state.config = await api.config();
    } catch (e) {
      $("boot-error-message").textContent = "Cannot load the console's configuration: " + e.message;
      $("boot-error").hidden = false;
      return;
    }
    const config = state.config;
    $("version").textContent = config.version ? "v" + config.version : "";
    $("database").textContent = config.database ? "database " + config.database : "";
    api.database = config.database || "neo4j";
    $("logout").hidden = !config.auth_required;
    if (!config.auth_required) {
      api.clearCredentials();
      openConsole();
    } else if (api.credentials()) {
      try {
        await api.ping();
        openConsole();
      } catch (e) {
        if (!(e instanceof api.AuthError)) showLogin(e.message);
      }
    } else {
      showLogin("");
    }
  }

  /** Shows the login form over the console (which keeps its state), with `message`. */
  function showLogin(message) {
    const saved = api.credentials();
    api.clearCredentials();
    panels.stopClusterPolling();
    if (saved && !$("login-user").value) $("login-user").value = saved.user;
    $("login-password").value = "";
    $("login-error").textContent = message || "";
    $("login-error").hidden = !message;
    $("login").hidden = false;
    $("login-submit").disabled = false;
    ($("login-user").value ? $("login-password") : $("login-user")).focus();
  }

  async function submitLogin(event) {
    event.preventDefault();
    const user = $("login-user").value;
    const password = $("login-password").value;
    $("login-submit").disabled = true;
    $("login-error").hidden = true;
    api.setCredentials(user, password);
    try {
      await api.ping();
    } catch (e) {
      // A 401 has already brought the form back with the server's message.
      if (!(e instanceof api.AuthError)) showLogin((e.code ? e.code + ": " : "") + e.message);
      return;
    }
    $("login").hidden = true;
    $("login-submit").disabled = false;
    openConsole();
  }

  function logout() {
    if (state.run) cancelQuery();
    api.clearCredentials();
    clearResults();
    showLogin("");
  }

  /** Shows the console; builds the editor and graph the first time. */
  function openConsole() {
    $("login").hidden = true;
    $("console").hidden = false;
    const saved = api.credentials();
    $("whoami").textContent = saved ? saved.user : "";
    if (!state.opened) {
      state.opened = true;
      weftConsole.editor = editor.init($("editor"), $("history-list"), runQuery);
      weftConsole.cy = graph.init($("graph"), { onExpand: expand, onInspect: inspect });
      panels.onPick = (query) => editor.set(query);
    }
    weftConsole.editor.refresh();
    panels.refreshSchema();
    panels.refreshStorage();
    panels.startClusterPolling();
  }

  // ---- running and cancelling -----------------------------------------------------------

  function setRunning(running) {
    weftConsole.running = running;
    $("run").disabled = running;
    $("cancel").hidden = !running;
    $("spinner").hidden = !running;
    clearInterval(state.timer);
    if (running) {
      const started = state.run.started;
      $("elapsed").textContent = "0.0 s";
      state.timer = setInterval(() => {
        $("elapsed").textContent = ((performance.now() - started) / 1000).toFixed(1) + " s";
      }, 100);
    }
  }

  async function runQuery() {
    if (state.run) return;
    const text = editor.value().trim().replace(/;\s*$/, "").trim();
    if (!text) return;
    editor.remember(text);
    const run = (state.run = { id: null, cancelled: false, started: performance.now(), controller: new AbortController() });
    setRunning(true);
    hideError();
    setNotice("");
    $("summary").textContent = "";
    try {
      const begun = await api.begin(run.controller.signal);
      if (run.cancelled) {
        if (begun.id !== null) await api.rollback(begun.id).catch(() => {});
        return;
      }
      if (begun.id === null) {
        showResponse(begun.json, performance.now() - run.started);
        return;
      }
      run.id = begun.id;
      let json = await api.commitIn(run.id, [api.statement(text)], run.controller.signal);
      // What must run on its own (CALL { } IN TRANSACTIONS, some admin commands) is
      // refused inside a transaction, before it did anything: run it as autocommit then
      // (which Cancel cannot stop on the server).
      const refused = api.firstError(json);
      if (!run.cancelled && refused && /ForbiddenDueToTransactionType$/.test(refused.code)) {
        run.id = null;
        json = await api.run(text);
      }
      if (!run.cancelled) showResponse(json, performance.now() - run.started);
    } catch (e) {
      if (run.cancelled) return;
      const code = e.code || "Weft.Console.Error";
      showResponse(e.response && api.firstError(e.response) ? e.response
        : { results: [], errors: [{ code, message: e.message }] }, performance.now() - run.started);
    } finally {
      if (state.run === run) {
        state.run = null;
        setRunning(false);
      }
    }
  }

  /** Stops the running query: rolls its transaction back (which stops the statement). */
  async function cancelQuery() {
    const run = state.run;
    if (!run || run.cancelled) return;
    run.cancelled = true;
    state.run = null;
    setRunning(false);
    setNotice("Query cancelled after " + Math.round(performance.now() - run.started) + " ms.");
    // Without an id the transaction is still being opened; runQuery rolls it back.
    if (run.id === null) return;
    try {
      await api.rollback(run.id);
    } catch (e) {
      if (!(e instanceof api.AuthError)) setNotice("Query cancelled; the rollback failed: " + e.message);
    }
    run.controller.abort();
  }

  // ---- showing a response -------------------------------------------------------------

  function showResponse(json, elapsedMs) {
    weftConsole.lastResult = json;
    const error = api.firstError(json);
    if (error) {
      clearResults();
      showError(error.code, error.message);
      $("summary").textContent = "Failed after " + Math.round(elapsedMs) + " ms.";
      return;
    }
    const result = (json.results || [])[0];
    if (!result) {
      clearResults();
      $("summary").textContent = "No result · " + Math.round(elapsedMs) + " ms";
      return;
    }
    const shown = render.renderTable($("result-table"), result);
    $("table-note").textContent = shown.rows > shown.shown
      ? "Showing the first " + shown.shown + " of " + shown.rows + " rows."
      : shown.rows === 0 ? ((result.columns || []).length ? "(no rows)" : "(no columns)") : "";
    const hasGraph = graph.hasEntities(result);
    if (hasGraph) {
      const drawn = graph.load(result);
      inspect(null, drawn.cut ? "Showing " + drawn.nodes + " nodes; " + drawn.cut + " more were left out." : "");
    } else {
      graph.clear();
    }
    const hasPlan = !!(result.plan || result.profile);
    render.renderPlan($("plan"), result);
    setTabs({ table: true, graph: hasGraph, plan: hasPlan });
    if (hasPlan) showTab("plan");
    else showTab(state.preferredTab === "graph" && hasGraph ? "graph" : "table");
    $("summary").textContent = render.summaryText(result, elapsedMs);
    const stats = result.stats || {};
    if (stats.contains_updates || Object.keys(stats).some((k) => /(indexes|constraints)_(added|removed)/.test(k) && stats[k])) {
      panels.refreshSchema();
      panels.refreshStorage();
    }
  }

  function setTabs(available) {
    for (const t of TABS) $("tab-" + t).hidden = !available[t];
  }

  function showTab(name) {
    for (const t of TABS) {
      const active = t === name;
      $("view-" + t).hidden = !active;
      $("tab-" + t).classList.toggle("active", active);
      $("tab-" + t).setAttribute("aria-selected", String(active));
    }
    if (name === "graph") graph.show();
  }

  function clearResults() {
    setTabs({});
    for (const t of TABS) $("view-" + t).hidden = true;
    render.renderTable($("result-table"), { columns: [], data: [] });
    $("table-note").textContent = "";
    $("plan").textContent = "";
    graph.clear();
    inspect(null);
  }

  function showError(code, message) {
    const box = $("error");
    box.querySelector(".code").textContent = code || "Error";
    box.querySelector(".message").textContent = message || "";
    box.hidden = false;
  }

  function hideError() {
    $("error").hidden = true;
  }

  function setNotice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  // ---- graph interaction --------------------------------------------------------------

  /** Runs the neighbourhood query for node `neoId` and merges the answer into the graph. */
  async function expand(neoId) {
    const id = Number(neoId);
    if (!Number.isSafeInteger(id)) return;
    inspect(null, "Expanding node " + neoId + "…");
    try {
      const json = await api.run("MATCH (n)-[r]-(m) WHERE id(n) = $id RETURN n, r, m LIMIT 100", { id });
      const error = api.firstError(json);
      if (error) {
        showError(error.code, error.message);
        inspect(null, "");
        return;
      }
      const added = graph.merge((json.results || [])[0], neoId);
      inspect(null, "Expanded node " + neoId + ": " + added.nodes + " new nodes, " + added.rels + " new relationships.");
    } catch (e) {
      if (!(e instanceof api.AuthError)) showError(e.code, e.message);
      inspect(null, "");
    }
  }

  /** Shows a tapped element's labels/type and properties (or `text`) under the graph. */
  function inspect(data, text) {
    const info = $("graph-info");
    if (data && data.kind === "node") info.textContent = "#" + data.neoId + " " + render.nodeText(data.properties, data.labels);
    else if (data) info.textContent = "#" + data.neoId + " " + render.relText(data.properties, data.type);
    else info.textContent = text || "Double-click a node to expand its neighbours; click one to see its properties.";
  }

  // ---- wiring -------------------------------------------------------------------------

  function wire() {
    $("login-form").addEventListener("submit", submitLogin);
    $("logout").addEventListener("click", logout);
    $("boot-retry").addEventListener("click", boot);
    $("run").addEventListener("click", runQuery);
    $("cancel").addEventListener("click", cancelQuery);
    for (const t of TABS) {
      $("tab-" + t).addEventListener("click", () => {
        if (t !== "plan") state.preferredTab = t;
        showTab(t);
      });
    }
    $("schema-refresh").addEventListener("click", () => panels.refreshSchema());
    $("storage-refresh").addEventListener("click", () => panels.refreshStorage());
    $("history-clear").addEventListener("click", () => editor.clearHistory());
    window.addEventListener("resize", () => {
      if (!$("view-graph").hidden) graph.show();
    });
    api.onUnauthorized = (message) => showLogin(message);
  }

  wire();
  boot();
})();
