// editor.js — owns the query editor and its history: the CodeMirror 5 instance (Cypher
// mode; Ctrl/Cmd+Enter runs; Ctrl+Up/Ctrl+Down browse the history) and the history of
// run queries in localStorage (the last 100, no two equal in a row), also shown as a
// clickable list in the side panel.
(function () {
  "use strict";

  const HISTORY_KEY = "weft.console.history";
  const HISTORY_MAX = 100;

  const editor = {
    cm: null,
    listEl: null,
    /** Where Ctrl+Up/Down browsing is in the history (null: not browsing). */
    cursor: null,
    /** What the editor held when browsing began, given back past the newest entry. */
    draft: "",

    /** Creates CodeMirror in `host`, the history list in `listEl`; `onRun()` on Ctrl+Enter. */
    init(host, listEl, onRun) {
      const cm = CodeMirror(host, {
        value: "",
        mode: "cypher",
        lineNumbers: true,
        lineWrapping: true,
        autofocus: true,
        tabSize: 2,
        indentUnit: 2,
        viewportMargin: Infinity,
        extraKeys: {
          "Ctrl-Enter": () => onRun(),
          "Cmd-Enter": () => onRun(),
          "Ctrl-Up": () => editor.browse(-1),
          "Ctrl-Down": () => editor.browse(1),
        },
      });
      cm.on("change", (_, change) => {
        if (change.origin !== "setValue") editor.cursor = null;
      });
      editor.cm = cm;
      editor.listEl = listEl;
      editor.renderHistory();
      return cm;
    },

    value() {
      return editor.cm.getValue();
    },

    /** Puts `text` in the editor, the cursor at its end, and focuses it. */
    set(text) {
      const cm = editor.cm;
      cm.setValue(text);
      cm.setCursor(cm.lineCount(), 0);
      cm.focus();
    },

    history() {
      try {
        const list = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
        return Array.isArray(list) ? list.filter((q) => typeof q === "string") : [];
      } catch (_) {
        return [];
      }
    },

    /** Appends `query` (oldest first) unless it equals the newest entry. */
    remember(query) {
      const list = editor.history();
      if (list[list.length - 1] !== query) list.push(query);
      try {
        localStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(-HISTORY_MAX)));
      } catch (_) {
        // Storage full or refused: the history is a convenience.
      }
      editor.cursor = null;
      editor.renderHistory();
    },

    clearHistory() {
      localStorage.removeItem(HISTORY_KEY);
      editor.cursor = null;
      editor.renderHistory();
    },

    /** Steps through the history: -1 older, +1 newer; past the newest, the draft. */
    browse(step) {
      const list = editor.history();
      if (!list.length) return;
      if (editor.cursor === null) {
        if (step > 0) return;
        editor.draft = editor.value();
        editor.cursor = list.length;
      }
      const next = Math.max(0, editor.cursor + step);
      if (next >= list.length) {
        editor.cursor = null;
        editor.set(editor.draft);
        return;
      }
      editor.cursor = next;
      editor.set(list[next]);
    },

    /** The side panel's list, newest first; a click puts the query in the editor. */
    renderHistory() {
      const ol = editor.listEl;
      if (!ol) return;
      ol.textContent = "";
      const list = editor.history().reverse();
      if (!list.length) {
        const li = document.createElement("li");
        li.className = "empty";
        li.textContent = "No queries run yet.";
        ol.appendChild(li);
        return;
      }
      for (const query of list) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "history-item";
        button.title = query;
        button.textContent = query.length > 160 ? query.slice(0, 160) + "…" : query;
        button.addEventListener("click", () => {
          editor.cursor = null;
          editor.set(query);
        });
        li.appendChild(button);
        ol.appendChild(li);
      }
    },
  };

  window.Weft = window.Weft || {};
  window.Weft.editor = editor;
})();
