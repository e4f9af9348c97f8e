// graph.js — owns the Graph view: one cytoscape instance for the page's life, filled
// from the `graph` of every row of a result (nodes and relationships deduplicated by
// id), coloured by first label / by type from fixed palettes (hash of the name, so a
// label keeps its colour across queries), captioned by name/title/id, laid out with
// `cose`; merging an expansion's result in around the expanded node; and reporting a
// double-click (expand) and a tap (inspect) to the app.
(function () {
  "use strict";

  const NODE_COLORS = ["#4C8EDA", "#DA7194", "#57C7E3", "#F79767", "#8DCC93", "#F16667",
    "#D9C8AE", "#C990C0", "#FFC454", "#ECB5C9", "#569480", "#A5ABB6"];
  const REL_COLORS = ["#6B7280", "#2563EB", "#DB2777", "#059669", "#D97706", "#7C3AED",
    "#DC2626", "#0891B2", "#65A30D", "#9333EA"];
  const UNLABELLED = "#9CA3AF";
  /** Nodes the view shows at most; a bigger result is cut (and the cut reported). */
  const NODE_LIMIT = 1000;
  /** The most a layout's fit zooms in. */
  const MAX_FIT_ZOOM = 1.3;

  function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }

  function colour(name, palette) {
    return name ? palette[hash(name) % palette.length] : UNLABELLED;
  }

  function caption(node) {
    const props = node.properties || {};
    for (const key of ["name", "title", "id"]) {
      const v = props[key];
      if (v !== null && v !== undefined && typeof v !== "object") return String(v);
    }
    return (node.labels && node.labels[0]) || "#" + node.id;
  }

  function nodeElement(n) {
    const label = (n.labels || [])[0] || "";
    return {
      group: "nodes",
      data: { id: "n" + n.id, neoId: String(n.id), labels: n.labels || [], properties: n.properties || {},
        caption: caption(n), color: colour(label, NODE_COLORS) },
    };
  }

  function relElement(r) {
    return {
      group: "edges",
      data: { id: "r" + r.id, neoId: String(r.id), source: "n" + r.startNode, target: "n" + r.endNode,
        type: r.type, properties: r.properties || {}, color: colour(r.type, REL_COLORS) },
    };
  }

  /** Every node and relationship of a result's rows, deduplicated by id. */
  function collect(result) {
    const nodes = new Map();
    const rels = new Map();
    for (const d of (result && result.data) || []) {
      const g = d.graph;
      if (!g) continue;
      for (const n of g.nodes || []) if (!nodes.has(String(n.id))) nodes.set(String(n.id), n);
      for (const r of g.relationships || []) if (!rels.has(String(r.id))) rels.set(String(r.id), r);
    }
    return { nodes, rels };
  }

  const STYLE = [
    { selector: "node", style: {
      "background-color": "data(color)", label: "data(caption)", width: 38, height: 38,
      "font-size": 11, color: "#1f2937", "text-valign": "bottom", "text-margin-y": 4,
      "text-wrap": "ellipsis", "text-max-width": 110, "border-width": 2, "border-color": "#ffffff",
    } },
    { selector: "edge", style: {
      width: 2, "line-color": "data(color)", "target-arrow-color": "data(color)",
      "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(type)",
      "font-size": 9, color: "#374151", "text-rotation": "autorotate",
      "text-background-color": "#ffffff", "text-background-opacity": 0.85, "text-background-padding": 2,
    } },
    { selector: ":selected", style: { "border-color": "#F59E0B", "border-width": 4, "line-color": "#F59E0B",
      "target-arrow-color": "#F59E0B" } },
  ];

  const graph = {
    cy: null,
    /** A layout is owed because elements changed while the view was hidden. */
    pendingLayout: false,

    /** Creates the instance in `container`; `onExpand(neoId)` on a node's dbltap,
     *  `onInspect(element data with `kind`, or null)` on a tap. */
    init(container, handlers) {
      const cy = cytoscape({ container, style: STYLE, elements: [] });
      cy.on("dbltap", "node", (e) => handlers.onExpand(e.target.data("neoId")));
      cy.on("tap", (e) => {
        if (e.target === cy) handlers.onInspect(null);
        else handlers.onInspect(Object.assign({ kind: e.target.isNode() ? "node" : "relationship" }, e.target.data()));
      });
      graph.cy = cy;
      return cy;
    },

    visible() {
      const c = graph.cy && graph.cy.container();
      return !!(c && c.offsetWidth > 0 && c.offsetHeight > 0);
    },

    /** Whether `result` has any node or relationship to draw. */
    hasEntities(result) {
      return (result.data || []).some((d) => d.graph && ((d.graph.nodes || []).length || (d.graph.relationships || []).length));
    },

    /** Replaces the view's elements with `result`'s; returns `{nodes, rels, cut}`. */
    load(result) {
      const { nodes, rels } = collect(result);
      const cy = graph.cy;
      const kept = [...nodes.values()].slice(0, NODE_LIMIT);
      const ids = new Set(kept.map((n) => "n" + n.id));
      const edges = [...rels.values()].filter((r) => ids.has("n" + r.startNode) && ids.has("n" + r.endNode));
      cy.batch(() => {
        cy.elements().remove();
        cy.add(kept.map(nodeElement).concat(edges.map(relElement)));
      });
      graph.pendingLayout = true;
      if (graph.visible()) graph.show();
      return { nodes: kept.length, rels: edges.length, cut: nodes.size - kept.length };
    },

    /** Adds `result`'s nodes and relationships that are not shown yet, new nodes placed
     *  in a circle around node `aroundId`; returns `{nodes, rels}` added. */
    merge(result, aroundId) {
      const { nodes, rels } = collect(result);
      const cy = graph.cy;
      const centre = cy.getElementById("n" + aroundId);
      const origin = centre.nonempty() ? centre.position() : { x: 0, y: 0 };
      const fresh = [...nodes.values()].filter((n) => cy.getElementById("n" + n.id).empty());
      const radius = 90 + 6 * fresh.length;
      const added = { nodes: 0, rels: 0 };
      cy.batch(() => {
        fresh.forEach((n, i) => {
          const angle = (2 * Math.PI * i) / Math.max(fresh.length, 1);
          const e = nodeElement(n);
          e.position = { x: origin.x + radius * Math.cos(angle), y: origin.y + radius * Math.sin(angle) };
          cy.add(e);
          added.nodes++;
        });
        for (const r of rels.values()) {
          if (cy.getElementById("r" + r.id).nonempty()) continue;
          if (cy.getElementById("n" + r.startNode).empty() || cy.getElementById("n" + r.endNode).empty()) continue;
          cy.add(relElement(r));
          added.rels++;
        }
      });
      return added;
    },

    /** Call when the view becomes visible: fits the canvas and runs an owed layout. */
    show() {
      const cy = graph.cy;
      if (!cy) return;
      cy.resize();
      if (graph.pendingLayout && graph.visible()) {
        graph.pendingLayout = false;
        cy.layout({ name: "cose", animate: false, fit: true, padding: 40, nodeDimensionsIncludeLabels: true,
          idealEdgeLength: () => 110, nodeRepulsion: () => 12000 }).run();
        // A handful of nodes would be fitted huge: keep them at a readable size.
        if (cy.zoom() > MAX_FIT_ZOOM) {
          cy.zoom(MAX_FIT_ZOOM);
          cy.center();
        }
      }
    },

    clear() {
      if (graph.cy) graph.cy.elements().remove();
      graph.pendingLayout = false;
    },
  };

  window.Weft = window.Weft || {};
  window.Weft.graph = graph;
})();
