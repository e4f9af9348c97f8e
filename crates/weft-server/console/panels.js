// panels.js — owns the side panels: Schema (labels, relationship types, property keys
// as clickable chips that put a query in the editor; indexes and constraints as
// tables), Storage (`SHOW STORAGE INFO` as a two-column table) and Cluster (polls
// /console/cluster every 2 s; hidden in single mode, else mode, role and members,
// rows whose health/status/state says down or unreachable highlighted).
(function () {
  "use strict";

  const { api, render } = window.Weft;
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 2000;

  function failure(target, error) {
    target.textContent = "";
    const message = error && error.code ? error.code + ": " + error.message : String(error && error.message);
    target.appendChild(render.el("div", "panel-error", message));
  }

  /** Runs one read for a panel; resolves to its first result or throws an ApiError. */
  async function read(statement) {
    const json = await api.run(statement, {}, ["row"]);
    const error = api.firstError(json);
    if (error) throw new api.ApiError(error.code, error.message, json);
    return (json.results && json.results[0]) || { columns: [], data: [] };
  }

  function rowsOf(result) {
    return (result.data || []).map((d) => d.row || []);
  }

  /** Chips for the first column's values; clicking one calls `onPick(query(value))`. */
  function chips(target, result, query, onPick) {
    target.textContent = "";
    const values = rowsOf(result).map((r) => r[0]).filter((v) => v !== null && v !== undefined).map(String);
    values.sort((a, b) => a.localeCompare(b));
    if (!values.length) {
      target.appendChild(render.el("span", "empty", "none"));
      return;
    }
    for (const v of values) {
      const chip = render.el("button", "chip", v);
      chip.type = "button";
      chip.title = query(v);
      chip.addEventListener("click", () => onPick(query(v)));
      target.appendChild(chip);
    }
  }

  function table(target, result, wanted) {
    target.textContent = "";
    const rows = rowsOf(result);
    if (!rows.length) target.appendChild(render.el("span", "empty", "none"));
    else target.appendChild(render.smallTable(result.columns || [], rows, wanted));
  }

  /** Refreshes in flight, by their button's id. */
  const loads = {};

  /** Runs `work` with button `id` disabled; refreshes may overlap (a write's automatic
   *  one, a click), so the button comes back when the last of them is done. */
  async function whileBusy(id, work) {
    loads[id] = (loads[id] || 0) + 1;
    $(id).disabled = true;
    try {
      await work();
    } finally {
      loads[id]--;
      $(id).disabled = loads[id] > 0;
    }
  }

  const panels = {
    /** Called with a query text when a schema chip is clicked. */
    onPick: function () {},
    pollToken: 0,
    pollTimer: null,

    async refreshSchema() {
      const { ident } = render;
      const jobs = [
        ["CALL db.labels()", "schema-labels",
          (t, r) => chips(t, r, (l) => "MATCH (n:" + ident(l) + ") RETURN n LIMIT 25", panels.onPick)],
        ["CALL db.relationshipTypes()", "schema-types",
          (t, r) => chips(t, r, (ty) => "MATCH p = ()-[r:" + ident(ty) + "]->() RETURN p LIMIT 25", panels.onPick)],
        ["CALL db.propertyKeys()", "schema-keys",
          (t, r) => chips(t, r, (k) => "MATCH (n) WHERE n." + ident(k) + " IS NOT NULL RETURN n LIMIT 25", panels.onPick)],
        ["SHOW INDEXES", "schema-indexes",
          (t, r) => table(t, r, ["name", "type", "labelsOrTypes", "properties", "state"])],
        ["SHOW CONSTRAINTS", "schema-constraints",
          (t, r) => table(t, r, ["name", "type", "labelsOrTypes", "properties"])],
      ];
      await whileBusy("schema-refresh", () => Promise.all(jobs.map(async ([statement, id, show]) => {
        const target = $(id);
        target.classList.add("loading");
        try {
          show(target, await read(statement));
        } catch (e) {
          if (!(e instanceof api.AuthError)) failure(target, e);
        } finally {
          target.classList.remove("loading");
        }
      })));
    },

    async refreshStorage() {
      const target = $("storage-info");
      await whileBusy("storage-refresh", async () => {
        target.classList.add("loading");
        try {
          const result = await read("SHOW STORAGE INFO");
          const columns = (result.columns || []).slice(0, 2);
          target.textContent = "";
          target.appendChild(render.smallTable(columns, rowsOf(result).map((r) => r.slice(0, 2))));
        } catch (e) {
          if (!(e instanceof api.AuthError)) failure(target, e);
        } finally {
          target.classList.remove("loading");
        }
      });
    },

    renderCluster(info) {
      const panel = $("cluster");
      const badge = $("cluster-badge");
      if (!info || info.mode === "single" || !info.mode) {
        panel.hidden = true;
        badge.hidden = true;
        return;
      }
      panel.hidden = false;
      badge.hidden = false;
      badge.textContent = info.mode + " · " + (info.role || "?");
      $("cluster-mode").textContent = info.mode;
      $("cluster-role").textContent = info.role || "?";
      const target = $("cluster-members");
      target.textContent = "";
      const members = info.members;
      if (!members || !Array.isArray(members.rows)) {
        target.appendChild(render.el("span", "empty", "No members reported."));
        return;
      }
      const columns = members.columns || [];
      const health = columns.map((c, i) => (/health|status|state/i.test(c) ? i : -1)).filter((i) => i >= 0);
      const table = render.smallTable(columns, members.rows);
      const trs = table.tBodies[0].rows;
      members.rows.forEach((row, i) => {
        const down = health.some((h) => /down|unreachable/i.test(String(row[h])));
        if (down) trs[i].classList.add("down");
      });
      target.appendChild(table);
    },

    /** Polls /console/cluster every POLL_MS until stopClusterPolling (or a 401). */
    startClusterPolling() {
      panels.stopClusterPolling();
      const token = ++panels.pollToken;
      const tick = async () => {
        if (token !== panels.pollToken) return;
        if (!document.hidden) {
          try {
            panels.renderCluster(await api.cluster());
            $("cluster-error").hidden = true;
          } catch (e) {
            if (e instanceof api.AuthError) return;
            if (token !== panels.pollToken) return;
            // Shown only while the panel is up: a server without a cluster may not answer.
            $("cluster-error").textContent = "Cluster status unavailable: " + e.message;
            $("cluster-error").hidden = false;
          }
        }
        if (token === panels.pollToken) panels.pollTimer = setTimeout(tick, POLL_MS);
      };
      tick();
    },

    stopClusterPolling() {
      panels.pollToken++;
      clearTimeout(panels.pollTimer);
      panels.pollTimer = null;
    },
  };

  window.Weft = window.Weft || {};
  window.Weft.panels = panels;
})();
