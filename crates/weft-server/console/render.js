// render.js — owns turning result data into text and DOM: Cypher-like text for values
// (nodes as `(:Label {k: v})`, relationships as `[:TYPE {k: v}]`, paths, other values
// as JSON), the result table, the plan/profile tree, the summary line and the small
// tables of the side panels. Builds DOM with textContent only (no innerHTML).
(function () {
  "use strict";

  /** Rows the result table shows at most; the rest are counted in a note. */
  const ROW_LIMIT = 1000;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /** A name as Cypher writes it: bare if it is a plain identifier, else in backticks. */
  function ident(name) {
    name = String(name);
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : "`" + name.replace(/`/g, "``") + "`";
  }

  function json(value) {
    const text = JSON.stringify(value);
    return text === undefined ? "null" : text;
  }

  function propsText(props) {
    const keys = Object.keys(props || {});
    if (!keys.length) return "";
    return "{" + keys.map((k) => ident(k) + ": " + json(props[k])).join(", ") + "}";
  }

  function nodeText(props, labels) {
    const labelText = (labels || []).map((l) => ":" + ident(l)).join("");
    const p = propsText(props);
    return "(" + labelText + (labelText && p ? " " : "") + p + ")";
  }

  function relText(props, type) {
    const p = propsText(props);
    return "[:" + ident(type || "?") + (p ? " " + p : "") + "]";
  }

  /** The nodes and relationships of one row's `graph`, by id. */
  function graphIndex(graph) {
    const nodes = new Map();
    const rels = new Map();
    if (graph) {
      for (const n of graph.nodes || []) nodes.set(String(n.id), n);
      for (const r of graph.relationships || []) rels.set(String(r.id), r);
    }
    return { nodes, rels };
  }

  function isEntity(meta, type) {
    return meta !== null && typeof meta === "object" && !Array.isArray(meta) && meta.type === type;
  }

  /** A path's meta alternates node, relationship, node, … and has odd length ≥ 3. */
  function isPath(meta) {
    if (meta.length < 3 || meta.length % 2 === 0) return false;
    return meta.every((m, i) => isEntity(m, i % 2 === 0 ? "node" : "relationship"));
  }

  function pathText(values, meta, index) {
    let text = "";
    for (let i = 0; i < values.length; i++) {
      if (i % 2 === 0) {
        const n = index.nodes.get(String(meta[i].id));
        text += nodeText(values[i], n ? n.labels : []);
        continue;
      }
      const r = index.rels.get(String(meta[i].id));
      const rel = relText(values[i], r ? r.type : "?");
      const before = String(meta[i - 1].id);
      if (r && String(r.startNode) === before) text += "-" + rel + "->";
      else if (r && String(r.endNode) === before) text += "<-" + rel + "-";
      else text += "-" + rel + "-";
    }
    return text;
  }

  /** One cell's text, `meta` telling what the value is (see the HTTP API's `meta`). */
  function cellText(value, meta, index) {
    if (Array.isArray(meta) && Array.isArray(value) && meta.length === value.length) {
      if (isPath(meta)) return pathText(value, meta, index);
      return "[" + value.map((v, i) => cellText(v, meta[i], index)).join(", ") + "]";
    }
    if (isEntity(meta, "node")) {
      const n = index.nodes.get(String(meta.id));
      return nodeText(value, n ? n.labels : []);
    }
    if (isEntity(meta, "relationship")) {
      const r = index.rels.get(String(meta.id));
      return relText(value, r ? r.type : "?");
    }
    // Temporal and spatial values come as strings with a `{"type": ...}` meta.
    if (meta && typeof meta.type === "string" && typeof value === "string") return value;
    return json(value);
  }

  /** Fills `table` (with a thead and a tbody) from `result`; one tbody row per data row,
   *  up to ROW_LIMIT. Returns `{rows, shown}`. */
  function renderTable(table, result) {
    const thead = table.tHead || table.createTHead();
    const tbody = table.tBodies[0] || table.createTBody();
    thead.textContent = "";
    tbody.textContent = "";
    const columns = result.columns || [];
    const head = el("tr");
    for (const c of columns) head.appendChild(el("th", null, c));
    thead.appendChild(head);
    const data = result.data || [];
    const shown = data.slice(0, ROW_LIMIT);
    const rows = document.createDocumentFragment();
    for (const d of shown) {
      const index = graphIndex(d.graph);
      const values = d.row || [];
      const tr = el("tr");
      columns.forEach((_, i) => {
        const value = values[i];
        const td = el("td", value === null || value === undefined ? "null" : null);
        td.textContent = cellText(value === undefined ? null : value, d.meta ? d.meta[i] : null, index);
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    }
    tbody.appendChild(rows);
    return { rows: data.length, shown: shown.length };
  }

  function number(value) {
    if (typeof value !== "number") return value === undefined || value === null ? "" : String(value);
    return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(1);
  }

  /** Renders the result's `profile` (else `plan`) as an indented operator table. */
  function renderPlan(container, result) {
    container.textContent = "";
    const profiled = !!result.profile;
    const source = result.profile || result.plan;
    const root = source && (source.root || source);
    if (!root) return;
    const args = (op) => op.arguments || op.args || {};
    const rootArgs = Object.entries(args(root))
      .filter(([k, v]) => !/^(Details|EstimatedRows|Rows|DbHits|PageCache.*|Time)$/.test(k) && typeof v !== "object");
    const head = el("div", "plan-head", profiled ? "PROFILE" : "EXPLAIN");
    for (const [k, v] of rootArgs) head.appendChild(el("span", "plan-arg", k + ": " + v));
    container.appendChild(head);

    const table = el("table", "plan-table");
    const titles = ["Operator", "Details", "Identifiers", "Estimated rows"];
    if (profiled) titles.push("Rows", "DB hits");
    const tr = el("tr");
    for (const t of titles) tr.appendChild(el("th", null, t));
    table.createTHead().appendChild(tr);
    const body = table.createTBody();
    let totalHits = 0;
    const walk = (op, depth) => {
      const a = args(op);
      const row = el("tr");
      const name = el("td", "plan-op", (depth ? "└ " : "") + (op.operatorType || "?"));
      name.style.paddingLeft = 8 + depth * 18 + "px";
      row.appendChild(name);
      row.appendChild(el("td", "plan-details", a.Details !== undefined ? String(a.Details) : ""));
      row.appendChild(el("td", null, (op.identifiers || []).join(", ")));
      row.appendChild(el("td", "num", number(a.EstimatedRows)));
      if (profiled) {
        const rows = op.rows !== undefined ? op.rows : a.Rows;
        const hits = op.dbHits !== undefined ? op.dbHits : a.DbHits;
        if (typeof hits === "number") totalHits += hits;
        row.appendChild(el("td", "num", number(rows)));
        row.appendChild(el("td", "num", number(hits)));
      }
      body.appendChild(row);
      for (const child of op.children || []) walk(child, depth + 1);
    };
    walk(root, 0);
    container.appendChild(table);
    if (profiled) container.appendChild(el("div", "plan-foot", "Total DB hits: " + number(totalHits)));
  }

  /** The summary line: rows, elapsed time and the non-zero numeric stats counters. */
  function summaryText(result, elapsedMs) {
    const count = (result.data || []).length;
    const parts = [count + (count === 1 ? " row" : " rows"), Math.round(elapsedMs) + " ms"];
    const stats = result.stats || {};
    for (const [key, value] of Object.entries(stats)) {
      if (typeof value === "number" && value !== 0) parts.push(key.replace(/_/g, " ") + ": " + value);
    }
    if (result.plan && !result.profile) parts.push("plan only (EXPLAIN)");
    return parts.join(" · ");
  }

  /** A plain value for the side panels' tables: strings as they are, lists joined. */
  function plain(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "string") return value;
    if (Array.isArray(value)) return value.map(plain).join(", ");
    return json(value);
  }

  /** A small table of `columns` × `rows` (lists of values), keeping only the `wanted`
   *  columns when the result has any of them. */
  function smallTable(columns, rows, wanted) {
    let keep = columns.map((_, i) => i);
    if (wanted) {
      const picked = wanted.map((w) => columns.indexOf(w)).filter((i) => i >= 0);
      if (picked.length) keep = picked;
    }
    const table = el("table", "small-table");
    const head = el("tr");
    for (const i of keep) head.appendChild(el("th", null, columns[i]));
    table.createTHead().appendChild(head);
    const body = table.createTBody();
    for (const row of rows) {
      const tr = el("tr");
      for (const i of keep) tr.appendChild(el("td", null, plain(row[i])));
      body.appendChild(tr);
    }
    return table;
  }

  window.Weft = window.Weft || {};
  window.Weft.render = {
    ROW_LIMIT, el, ident, nodeText, relText, propsText, cellText, graphIndex,
    renderTable, renderPlan, summaryText, smallTable, plain,
  };
})();
