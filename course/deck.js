// The lecture's helper in JupyterLab's page (course.server adds it to /lab pages of `make lecture`).
//  - The lesson runs itself once when it opens, and the deck stays on the slide it shows.
//  - Running cells while presenting never leaves the deck on a notes cell (a blank screen):
//    the deck goes back to the slide it was on.
//  - The presenter view (/course/presenter/<path>) follows the deck through a BroadcastChannel.
(function () {
  "use strict";
  const channel = new BroadcastChannel("course-deck");
  const presenting = () => document.body.dataset.jpDeckMode === "presenting";
  const kind = (cell) => ((cell.model.getMetadata("slideshow") || {}).slide_type) || null;
  const hidden = (cell) => kind(cell) === "notes" || kind(cell) === "skip";
  window.courseDeck = {ran: {}, running: false};

  function panel(app) {
    const w = app.shell.currentWidget;
    return w && w.content && w.content.widgets && w.context ? w : null;
  }

  function post(app) {
    const w = panel(app);
    if (!w) return;
    channel.postMessage({path: w.context.path, active: w.content.activeCellIndex, presenting: presenting()});
  }

  function follow(app, w) {
    if (w._courseDeck) return;
    w._courseDeck = true;
    const nb = w.content;
    let last = nb.activeCellIndex;
    nb.activeCellChanged.connect(() => {
      const i = nb.activeCellIndex, cell = nb.widgets[i];
      if (cell && hidden(cell) && (presenting() || window.courseDeck.running)) {
        // a run (Run All, the lesson's own run at the start) moved onto notes: back to the slide
        setTimeout(() => { if (nb.widgets[last] && !hidden(nb.widgets[last])) nb.activeCellIndex = last; }, 0);
        return;
      }
      last = i;
      post(app);
    });
    w.context.ready.then(() => w.sessionContext.ready).then(async () => {
      const path = w.context.path;
      if (window.courseDeck.ran[path]) return;
      window.courseDeck.ran[path] = "running";
      const before = nb.activeCellIndex;
      window.courseDeck.running = true;
      try {
        const done = app.commands.execute("notebook:run-all-cells");
        nb.activeCellIndex = before;
        await done;
      } finally {
        window.courseDeck.running = false;
        nb.activeCellIndex = last;
        window.courseDeck.ran[path] = "done";
        post(app);
      }
    });
  }

  // The projector's text: prose at 15 px and code at 16 px (JupyterLab: 14 and 13; the prose's lines a little closer, so
  // that a slide still fits the screen), controls' labels at 15 px, formulas at 150 % (MathJax sets 119 %), their
  // scripts, and the scripts of scripts (MathJax: 50 %, 12 px), at 14 px or more, while presenting only; the notebook
  // as a learner reads it is unchanged.
  const style = document.createElement("style");
  style.textContent = `
    body[data-jp-deck-mode='presenting'] { --jp-content-font-size1: 15px; --jp-code-font-size: 16px;
                                           --jp-widgets-font-size: 15px; --jp-content-line-height: 1.4; }
    body[data-jp-deck-mode='presenting'] .jp-Notebook mjx-container { font-size: 150% !important; }
    body[data-jp-deck-mode='presenting'] .jp-Notebook mjx-container [size="ss"] { font-size: 64% !important; }
    body[data-jp-deck-mode='presenting'] .jp-Notebook mjx-container [size="s"] [size="s"] { font-size: 90% !important; }
    body[data-jp-deck-mode='presenting'] .jp-Notebook .jp-OutputArea-output pre { font-size: 16px; }
    body[data-jp-deck-mode='presenting'] .jp-Notebook .jp-RenderedHTMLCommon table { font-size: 16px; }`;
  document.head.appendChild(style);

  function start(app) {
    const watch = () => { const w = panel(app); if (w) follow(app, w); post(app); };
    app.shell.currentChanged.connect(watch);
    watch();
    channel.onmessage = (event) => { if (event.data && event.data.hello) post(app); };
    new MutationObserver(() => post(app)).observe(document.body, {attributes: true, attributeFilter: ["data-jp-deck-mode"]});
  }

  (function wait() {
    const app = window.jupyterapp;
    if (app && app.shell && app.started) app.started.then(() => app.restored).then(() => start(app));
    else setTimeout(wait, 100);
  })();
})();
