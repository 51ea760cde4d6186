/* chaingrad explorer: replays a computation graph drawn by ag.viz.draw.
 *
 * The page holds the picture (graphviz SVG) and one JSON object made by
 * chaingrad.autograd.viz.explore_data.page_data: frames (forward, then backward
 * in the engine's order), panels (what a click on a box shows) and vertices
 * (which panel each SVG vertex opens, and in which forward frame it appears).
 * No network, no library: plain DOM and SVG. Every string from the data is
 * put in as text (textContent), never as markup.
 *
 * The picture fits its panel when the page opens; the wheel zooms at the
 * pointer, a drag pans, the buttons and keys (+ - 0, Shift+arrows) do both,
 * and stepping pans just enough to keep the active node in view. All of it
 * moves the SVG's viewBox: the page itself never scrolls.
 */
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svgEl(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function titleOf(g) {
    const t = g.querySelector("title");
    return t ? t.textContent : "";
  }

  function shapeOf(g) {         // the outline graphviz drew first: the one to fill and stroke
    const t = g.querySelector("title");
    return t ? t.nextElementSibling : null;
  }

  // ---- arrays: small ones in full, larger ones as heat map and histogram ----

  const HEAT_LEVELS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  function diverging(t) {       // t in [-1, 1]: blue (negative), white (0), red (positive)
    const a = Math.min(1, Math.abs(t));
    const c = Math.round(255 * (1 - a));
    return t < 0 ? "rgb(" + c + "," + c + ",255)" : "rgb(255," + c + "," + c + ")";
  }

  // An array summary as one line: its entries when it was kept in full, else its text.
  function arrayText(s) {
    if (!s) return "none";
    if (s.full === undefined) return s.text;
    return JSON.stringify(s.full).replace(/,/g, ", ");
  }

  function fullTable(v) {
    if (!Array.isArray(v)) return el("span", "cg-mono", v);
    const rows = Array.isArray(v[0]) ? v : [v];
    if (rows.length && Array.isArray(rows[0][0])) return el("div", "cg-mono", JSON.stringify(v));
    const table = el("table", "cg-array");
    for (const row of rows) {
      const tr = el("tr");
      for (const x of row) tr.appendChild(el("td", null, x));
      table.appendChild(tr);
    }
    return table;
  }

  function heatCanvas(h) {
    const size = Math.max(4, Math.floor(160 / Math.max(h.rows, h.cols)));
    const cv = el("canvas");
    cv.width = h.cols * size; cv.height = h.rows * size;
    cv.title = "heat map: rows x last axis, block means; blue < 0 < red, scale ±" + h.scale;
    const ctx = cv.getContext("2d");
    const top = HEAT_LEVELS.length - 1;
    for (let i = 0; i < h.rows; i++) {
      for (let j = 0; j < h.cols; j++) {
        const level = HEAT_LEVELS.indexOf(h.cells[i * h.cols + j]);
        ctx.fillStyle = diverging(2 * level / top - 1);
        ctx.fillRect(j * size, i * size, size, size);
      }
    }
    return cv;
  }

  function histCanvas(h) {
    const cv = el("canvas");
    cv.width = 160; cv.height = 40;
    cv.title = "histogram from " + h.lo + " to " + h.hi;
    const ctx = cv.getContext("2d");
    const most = Math.max.apply(null, h.counts) || 1;
    const w = cv.width / h.counts.length;
    ctx.fillStyle = "#5b7fa6";
    h.counts.forEach(function (c, i) {
      const bar = Math.round((cv.height - 2) * c / most);
      ctx.fillRect(i * w + 1, cv.height - bar, w - 2, bar);
    });
    return cv;
  }

  function arrayView(s) {
    const box = el("div", "cg-arrayview");
    if (!s) { box.appendChild(el("span", "cg-meta", "none")); return box; }
    if (s.full !== undefined) { box.appendChild(fullTable(s.full)); return box; }
    box.appendChild(el("div", "cg-mono", s.text));
    if (s.stats) {
      const st = s.stats;
      box.appendChild(el("div", "cg-mono", "rms " + st.rms + (st.nonfinite ? ", " + st.nonfinite + " nan/inf!" : "")));
    }
    if (s.heat) box.appendChild(heatCanvas(s.heat));
    if (s.hist) {
      box.appendChild(histCanvas(s.hist));
      box.appendChild(el("div", "cg-mono", s.hist.lo + " … " + s.hist.hi));
    }
    return box;
  }

  // ---- the view: fit, zoom and pan by moving the SVG's viewBox ----

  const PX_PER_PT = 4 / 3;        // graphviz measures in points; "full size" is 1 pt = 4/3 px
  const MARGIN = 24;              // px kept free around a node brought into view

  function View(pane, svg) {
    this.pane = pane;
    this.svg = svg;
    const vb = svg.viewBox.baseVal;
    this.full = { x: vb.x, y: vb.y, w: vb.width || 1, h: vb.height || 1 };
    svg.removeAttribute("width");            // the style sizes the picture to its panel
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    this.fitted = true;                      // follow the panel's size until the user zooms
    this.bind();
    this.fit();
  }

  View.prototype.size = function () {
    return { w: this.pane.clientWidth, h: this.pane.clientHeight };
  };

  // The whole picture in the panel, at most at full size, centred across, from the top.
  View.prototype.fit = function () {
    const p = this.size(), f = this.full;
    if (!p.w || !p.h) return;                // not laid out (a hidden iframe): later
    const s = Math.min(PX_PER_PT, p.w / f.w, p.h / f.h);
    this.fitScale = s;
    this.set(f.x + f.w / 2 - p.w / (2 * s), f.y, s);
    this.fitted = true;
  };

  View.prototype.set = function (x, y, s) {
    const p = this.size(), f = this.full;
    if (!p.w || !p.h) return;
    // Keep some of the picture on screen: at most all but 40 px of it may leave the panel.
    const keep = 40 / s;
    this.x = Math.min(Math.max(x, f.x - p.w / s + keep), f.x + f.w - keep);
    this.y = Math.min(Math.max(y, f.y - p.h / s + keep), f.y + f.h - keep);
    this.s = s;
    this.svg.setAttribute("viewBox", [this.x, this.y, p.w / s, p.h / s].join(" "));
  };

  // Zoom by `factor` around the panel point (px, py): that point stays where it is. Without
  // a point (keys, buttons): around the active node when it is in view, else the centre.
  View.prototype.zoom = function (factor, px, py) {
    const p = this.size();
    if (!this.s) return;
    if (px === undefined) {
      const c = this.focusPoint();
      px = c ? c.x : p.w / 2; py = c ? c.y : p.h / 2;
    }
    const low = Math.min(this.fitScale, PX_PER_PT) / 2, high = 8 * PX_PER_PT;
    const s = Math.min(high, Math.max(low, this.s * factor));
    this.set(this.x + px / this.s - px / s, this.y + py / this.s - py / s, s);
    this.fitted = false;
  };

  View.prototype.pan = function (dx, dy) {        // move the picture by (dx, dy) px
    if (!this.s) return;
    this.set(this.x - dx / this.s, this.y - dy / this.s, this.s);
    this.fitted = false;
  };

  // The screen box around the elements of `shapes` (null when none is drawn).
  function screenBox(shapes) {
    let box = null;
    for (const e of shapes) {
      const r = e.getBoundingClientRect();
      if (!r.width && !r.height) continue;
      box = box ? { l: Math.min(box.l, r.left), t: Math.min(box.t, r.top), r: Math.max(box.r, r.right),
        b: Math.max(box.b, r.bottom) } : { l: r.left, t: r.top, r: r.right, b: r.bottom };
    }
    return box;
  }

  // The centre of what `focus()` (set by the explorer: the active node) returns, in panel
  // coordinates, when it is in the panel; else null.
  View.prototype.focusPoint = function () {
    const box = this.focus ? screenBox(this.focus()) : null;
    if (!box) return null;
    const pane = this.pane.getBoundingClientRect();
    const x = (box.l + box.r) / 2 - pane.left, y = (box.t + box.b) / 2 - pane.top;
    return x >= 0 && y >= 0 && x <= pane.width && y <= pane.height ? { x: x, y: y } : null;
  };

  // Pan as little as needed so that every element of `shapes` is in the panel (their
  // middle centred when they do not fit together).
  View.prototype.reveal = function (shapes) {
    if (!this.s || !shapes.length) return;
    const pane = this.pane.getBoundingClientRect();
    const box = screenBox(shapes);
    if (!box) return;
    const shift = function (lo, hi, paneLo, paneHi) {
      if (hi - lo > paneHi - paneLo - 2 * MARGIN) return (paneLo + paneHi) / 2 - (lo + hi) / 2;
      if (lo < paneLo + MARGIN) return paneLo + MARGIN - lo;
      if (hi > paneHi - MARGIN) return paneHi - MARGIN - hi;
      return 0;
    };
    const dx = shift(box.l, box.r, pane.left, pane.right), dy = shift(box.t, box.b, pane.top, pane.bottom);
    if (dx || dy) this.set(this.x - dx / this.s, this.y - dy / this.s, this.s);
  };

  // Keys: + and - zoom, 0 fits, Shift+arrows pan. True when the key was one of them.
  View.prototype.key = function (k) {
    const step = 80;
    const act = { "+": function (v) { v.zoom(1.25); }, "=": function (v) { v.zoom(1.25); },
      "-": function (v) { v.zoom(0.8); }, "0": function (v) { v.fit(); },
      ArrowLeft: function (v) { v.pan(step, 0); }, ArrowRight: function (v) { v.pan(-step, 0); },
      ArrowUp: function (v) { v.pan(0, step); }, ArrowDown: function (v) { v.pan(0, -step); } }[k];
    if (!act) return false;
    act(this);
    return true;
  };

  View.prototype.bind = function () {
    const self = this, pane = this.pane;
    for (const b of pane.querySelectorAll("[data-zoom]")) {
      b.addEventListener("click", function () { self.key(b.getAttribute("data-zoom")); });
    }
    pane.addEventListener("wheel", function (ev) {
      ev.preventDefault();                  // the wheel zooms the picture, not the page
      const r = pane.getBoundingClientRect();
      const dy = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;     // lines or pixels
      self.zoom(Math.exp(-dy * 0.002), ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    // Drag to pan. A press that moved is a pan, not a click: the click after it is dropped.
    let drag = null;
    pane.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0 || ev.target.closest("button")) return;
      drag = { x: ev.clientX, y: ev.clientY, moved: false };
    });
    window.addEventListener("pointermove", function (ev) {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      pane.classList.add("cg-dragging");
      self.pan(dx, dy);
      drag.x = ev.clientX; drag.y = ev.clientY;
    });
    window.addEventListener("pointerup", function () {
      if (drag && drag.moved) {
        const swallow = function (ev) { ev.stopPropagation(); ev.preventDefault(); };
        pane.addEventListener("click", swallow, { capture: true, once: true });
        setTimeout(function () { pane.removeEventListener("click", swallow, { capture: true }); }, 0);
      }
      drag = null;
      pane.classList.remove("cg-dragging");
    });
    window.addEventListener("resize", function () {
      if (self.fitted) self.fit();
      else if (self.s) self.set(self.x, self.y, self.s);
    });
  };

  // ---- the explorer ----

  function Explorer(root, data) {
    this.root = root;
    this.data = data;
    this.frames = data.frames;
    this.svg = root.querySelector(".cg-graph svg");
    this.graph = this.svg.querySelector("g.graph") || this.svg;
    this.k = 0;
    this.collapsed = new Map();        // cluster element -> its overlay
    this.follow = true;                // pan to keep the active node in view
    root.querySelector(".cg-title").textContent = data.title;
    this.indexPicture();
    this.legend();
    this.bind();
    this.view = new View(root.querySelector(".cg-graph"), this.svg);
    const self = this;
    this.view.focus = function () { return self.activeShapes(); };
    this.show(0);
  }

  Explorer.prototype.indexPicture = function () {
    this.nodes = {};
    this.boxes = {};
    this.edges = {};
    this.original = new Map();
    for (const g of this.svg.querySelectorAll("g.node")) {
      this.nodes[titleOf(g)] = g;
      const shape = shapeOf(g);
      if (shape) this.original.set(g, shape.getAttribute("fill"));
    }
    for (const g of this.svg.querySelectorAll("g.edge")) {
      const key = titleOf(g);
      (this.edges[key] = this.edges[key] || []).push(g);
    }
    this.clusters = Array.from(this.svg.querySelectorAll("g.cluster"));
    this.collapseLayer = svgEl("g", { "class": "cg-collapse-layer" });
    this.noteLayer = svgEl("g", { "class": "cg-note-layer" });
    this.graph.appendChild(this.collapseLayer);
    this.graph.appendChild(this.noteLayer);
  };

  Explorer.prototype.box = function (v) {        // a vertex's bounding box, measured once
    if (!this.boxes[v]) this.boxes[v] = this.nodes[v].getBBox();
    return this.boxes[v];
  };

  Explorer.prototype.edge = function (e) {        // [from, to, n] -> the n-th such edge element
    const list = this.edges[e[0] + "->" + e[1]];
    return list ? list[e[2]] || null : null;
  };

  Explorer.prototype.bind = function () {
    const self = this;
    this.slider = this.root.querySelector(".cg-slider");
    this.slider.max = String(this.frames.length - 1);
    this.slider.addEventListener("input", function () { self.show(Number(self.slider.value)); });
    for (const b of this.root.querySelectorAll("[data-go]")) {
      b.addEventListener("click", function () { self.go(b.getAttribute("data-go")); });
    }
    document.addEventListener("keydown", function (ev) {
      const t = ev.target;
      if (t && t !== self.slider && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) return;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;        // the browser's own shortcuts
      const viewKey = "+=-0".indexOf(ev.key) >= 0 || (ev.shiftKey && ev.key.indexOf("Arrow") === 0);
      if (viewKey) {                            // zoom, fit, pan (Shift+arrows)
        if (self.view.key(ev.key)) ev.preventDefault();
        return;
      }
      const go = { ArrowRight: "next", ArrowLeft: "prev", Home: "first", End: "last" }[ev.key];
      if (!go) return;
      ev.preventDefault();                      // the slider must not step a second time
      self.go(go);
    });
    for (const v in this.nodes) {
      this.nodes[v].addEventListener("click", function () { self.select(v); });
    }
    for (const c of this.clusters) {
      c.addEventListener("click", function () { self.toggle(c); });
    }
  };

  Explorer.prototype.go = function (where) {
    const last = this.frames.length - 1;
    const k = { first: 0, prev: this.k - 1, next: this.k + 1, last: last }[where];
    this.show(Math.max(0, Math.min(last, k)));
  };

  // ---- one frame ----

  Explorer.prototype.show = function (k) {
    this.k = k;
    const f = this.frames[k];
    if (!f) return;
    this.slider.value = String(k);
    this.root.querySelector(".cg-count").textContent = "frame " + (k + 1) + " of " + this.frames.length;
    const caption = this.root.querySelector(".cg-caption");
    caption.textContent = f.text;
    caption.className = "cg-caption " + f.phase;
    const lines = this.root.querySelector(".cg-lines");
    lines.textContent = "";
    for (const line of frameLines(f)) lines.appendChild(el("li", null, line));
    this.reset();
    if (f.phase === "forward") this.dimFuture(k);
    else this.paintGrads(k);
    for (const v of f.active) this.light(v);
    if (this.follow) this.view.reveal(this.activeShapes());
    const edges = f.edges.concat((f.parts || []).map(function (p) { return p.e; }));
    for (const e of edges) {
      const g = e && this.edge(e);
      if (g) g.classList.add(f.phase === "forward" ? "cg-fwd" : "cg-flow");
    }
    for (const p of f.parts || []) {
      if (p.e) this.note(p.e, "+" + p.add + (p.n > 1 ? "  (part " + p.r + " of " + p.n + ", sum " + p.sum + ")" : ""));
    }
  };

  // The lines under the caption: what each input receives, and the running sums.
  function frameLines(f) {
    if (f.leaf) return ["backward adds this into " + f.leaf + ".grad"];
    return (f.parts || []).map(function (p) {
      return "input " + p.i + " (" + p.name + "): VJP gives " + p.add + "; " + p.name + ".grad so far " + p.sum +
        " (" + p.r + " of " + p.n + " part" + (p.n > 1 ? "s" : "") + (p.r === p.n ? ", complete)" : ", more to come)");
    });
  }

  Explorer.prototype.reset = function () {
    for (const v in this.nodes) {
      const g = this.nodes[v];
      g.classList.remove("cg-active", "cg-future");
      const shape = shapeOf(g);
      if (shape) shape.style.fill = "";
    }
    for (const key in this.edges) {
      for (const g of this.edges[key]) g.classList.remove("cg-fwd", "cg-flow", "cg-future");
    }
    for (const ov of this.collapsed.values()) ov.rect.classList.remove("cg-active");
    this.noteLayer.textContent = "";
    this.placed = [];
  };

  Explorer.prototype.dimFuture = function (k) {
    const future = {};
    for (const v in this.data.vertices) {
      if (this.data.vertices[v].born > k && this.nodes[v]) {
        future[v] = true;
        this.nodes[v].classList.add("cg-future");
      }
    }
    for (const key in this.edges) {
      const ends = key.split("->");
      if (future[ends[0]] || future[ends[1]]) {
        for (const g of this.edges[key]) g.classList.add("cg-future");
      }
    }
  };

  // Gradients so far: every contribution of the backward frames up to k, summed per box.
  Explorer.prototype.paintGrads = function (k) {
    const state = {};
    for (let i = this.data.forward; i <= k; i++) {
      const f = this.frames[i];
      if (f.start) state[f.start.v] = { adds: [f.start.sum], sum: f.start.sum, r: 1, n: 1, color: f.start.color };
      for (const u of f.parts || []) {
        if (!u.v) continue;
        const s = state[u.v] || (state[u.v] = { adds: [] });
        s.adds.push(u.add);             // += : a tensor used several times sums its parts
        s.sum = u.sum; s.r = u.r; s.n = u.n; s.color = u.color;
      }
    }
    for (const v in state) {
      const g = this.nodes[v];
      if (!g || g.classList.contains("cg-hidden")) continue;      // inside a collapsed module
      const s = state[v];
      const shape = shapeOf(g);
      if (shape) shape.style.fill = s.color;
      let text = "grad " + s.sum;
      if (s.n > 1) {
        text = s.r < s.n ? "grad so far " + s.sum + " (" + s.r + " of " + s.n + " parts)"
          : "grad " + s.sum + " = " + s.adds.join(" + ");
      }
      const box = this.box(v);
      const x = box.x + 2, y = box.y + box.height + 10;
      this.noteLayer.appendChild(svgEl("text", { "class": "cg-badge", x: x, y: y }, text));
      // Edge notes keep clear of it (its size estimated: measuring each would be slow).
      this.placed.push({ x: x, y: y - 9, width: 5.6 * text.length, height: 11 });
    }
  };

  Explorer.prototype.light = function (v) {
    const g = this.nodes[v];
    if (!g) return;
    g.classList.add("cg-active");
    const hiding = this.hidingCluster(g);
    if (hiding) this.collapsed.get(hiding).rect.classList.add("cg-active");
  };

  // What the active frame lights up, as drawn: a node, or the box of the module hiding it.
  Explorer.prototype.activeShapes = function () {
    const out = [];
    for (const v of this.frames[this.k].active) {
      const g = this.nodes[v];
      if (!g) continue;
      const hiding = this.hidingCluster(g);
      out.push(hiding ? this.collapsed.get(hiding).rect : g);
    }
    return out;
  };

  Explorer.prototype.note = function (e, text) {
    const g = this.edge(e);
    if (!g || g.classList.contains("cg-hidden")) return;
    const path = g.querySelector("path");
    if (!path) return;
    const p = path.getPointAtLength(path.getTotalLength() / 2);
    const t = svgEl("text", { "class": "cg-note", x: p.x + 4, y: p.y }, text);
    this.noteLayer.appendChild(t);
    // Notes of parallel edges (a + a) would print over each other: move down until free.
    let box = t.getBBox();
    for (const other of this.placed) {
      if (box.x < other.x + other.width && other.x < box.x + box.width &&
          box.y < other.y + other.height && other.y < box.y + box.height) {
        t.setAttribute("y", String(other.y + other.height + box.height * 0.8));
        box = t.getBBox();
      }
    }
    this.placed.push(box);
  };

  // ---- panels ----

  Explorer.prototype.select = function (v) {
    const info = this.data.vertices[v];
    for (const key in this.nodes) this.nodes[key].classList.remove("cg-selected");
    if (this.nodes[v]) this.nodes[v].classList.add("cg-selected");
    const panel = this.root.querySelector(".cg-panel");
    panel.textContent = "";
    if (!info || info.panel === null || info.panel === undefined) {
      panel.appendChild(el("p", "cg-hint", "No data for this box."));
      return;
    }
    this.renderPanel(panel, this.data.panels[info.panel]);
  };

  Explorer.prototype.openPanel = function (n) {
    const panel = this.root.querySelector(".cg-panel");
    panel.textContent = "";
    this.renderPanel(panel, this.data.panels[n]);
  };

  Explorer.prototype.renderPanel = function (panel, p) {
    const self = this;
    panel.appendChild(el("h2", "cg-name", p.name));
    panel.appendChild(el("div", "cg-meta cg-kind", p.kind));
    panel.appendChild(el("div", "cg-meta cg-shape", "shape (" + p.shape.join(", ") + (p.shape.length === 1 ? ",)" : ")") + "  " + p.dtype));
    panel.appendChild(el("div", "cg-meta cg-module", "module: " + (p.module || "(none)")));
    panel.appendChild(el("h3", null, "value"));
    const value = arrayView(p.value); value.classList.add("cg-value"); panel.appendChild(value);
    panel.appendChild(el("h3", null, "gradient (d output / d " + p.name + ")"));
    if (p.grad) {
      const grad = arrayView(p.grad); grad.classList.add("cg-grad"); panel.appendChild(grad);
    } else {
      panel.appendChild(el("div", "cg-meta cg-grad", "none: no gradient flows here"));
    }
    if (!p.op) return;
    const op = p.op;
    const syms = op.inputs.map(function (i) { return i.symbol; });
    panel.appendChild(el("h3", null, "op: y = " + op.name + "(" + syms.join(", ") + (op.options ? ", " + op.options : "") + ")"));
    const box = el("div", "cg-op");
    box.appendChild(el("div", "cg-mono", "g = d output / dy = " + arrayText(p.grad)));
    box.appendChild(el("div", "cg-mono", "y = " + (p.value ? arrayText(p.value) : "freed")));
    op.inputs.forEach(function (inp) {
      const line = el("div", "cg-mono");
      line.appendChild(document.createTextNode(inp.symbol + " = "));
      const name = el("span", inp.panel !== null ? "cg-link" : null, inp.name);
      if (inp.panel !== null) name.addEventListener("click", function () { self.openPanel(inp.panel); });
      line.appendChild(name);
      const shown = inp.panel !== null ? self.data.panels[inp.panel].value : null;
      line.appendChild(document.createTextNode(" = " + (shown ? arrayText(shown) : inp.value)));
      box.appendChild(line);
    });
    op.inputs.forEach(function (inp) {
      if (!inp.differentiable) {
        box.appendChild(el("div", "cg-mono", inp.symbol + ": a constant, no gradient"));
        return;
      }
      if (inp.derivative !== null) {
        box.appendChild(el("div", "cg-mono cg-formula", "∂y/∂" + inp.symbol + " = " + inp.derivative));
        box.appendChild(el("div", "cg-mono cg-vjp", "VJP: grad_" + inp.symbol + " = " + inp.vjp + " = " + inp.grad));
      } else {
        box.appendChild(el("div", "cg-mono", "VJP of input " + inp.symbol + " (its source):"));
        box.appendChild(el("pre", "cg-source", inp.source));
        box.appendChild(el("div", "cg-mono cg-vjp", "grad_" + inp.symbol + " = " + inp.grad));
      }
    });
    panel.appendChild(box);
  };

  // ---- clusters: a click collapses a module into one box, another click expands it ----

  function inside(box, outer) {
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    return cx >= outer.x && cx <= outer.x + outer.width && cy >= outer.y && cy <= outer.y + outer.height;
  }

  Explorer.prototype.hidingCluster = function (g) {
    for (const [c, ov] of this.collapsed) {
      if (ov.members.indexOf(g) >= 0) return c;
    }
    return null;
  };

  Explorer.prototype.toggle = function (c) {
    if (this.collapsed.has(c)) this.expand(c);
    else this.collapse(c);
    this.show(this.k);
  };

  Explorer.prototype.collapse = function (c) {
    const self = this;
    const box = c.getBBox();
    const members = [];
    for (const v in this.nodes) {
      if (inside(this.box(v), box)) members.push(this.nodes[v]);
    }
    const inner = this.clusters.filter(function (o) { return o !== c && inside(o.getBBox(), box); });
    const memberNames = {};
    members.forEach(function (g) { memberNames[titleOf(g)] = true; g.classList.add("cg-hidden"); });
    inner.forEach(function (o) { o.classList.add("cg-hidden"); });
    const edges = [];
    for (const key in this.edges) {
      const ends = key.split("->");
      if (memberNames[ends[0]] && memberNames[ends[1]]) {
        for (const g of this.edges[key]) { g.classList.add("cg-hidden"); edges.push(g); }
      }
    }
    const label = Array.from(c.querySelectorAll("text")).map(function (t) { return t.textContent; }).join(" ");
    const rect = svgEl("rect", { "class": "cg-collapsed", x: box.x, y: box.y, width: box.width, height: box.height, rx: 6 });
    const text = svgEl("text", { "class": "cg-collapsed-label", x: box.x + 6, y: box.y + 16 },
      label + " (" + members.length + " boxes; click to expand)");
    rect.addEventListener("click", function () { self.toggle(c); });
    this.collapseLayer.appendChild(rect);
    this.collapseLayer.appendChild(text);
    c.classList.add("cg-is-collapsed");
    this.collapsed.set(c, { rect: rect, text: text, members: members, inner: inner, edges: edges });
  };

  Explorer.prototype.expand = function (c) {
    const ov = this.collapsed.get(c);
    this.collapsed.delete(c);
    const still = new Set();       // boxes another collapsed cluster still hides
    for (const o of this.collapsed.values()) o.members.forEach(function (g) { still.add(g); });
    ov.members.forEach(function (g) { if (!still.has(g)) g.classList.remove("cg-hidden"); });
    ov.inner.forEach(function (o) { o.classList.remove("cg-hidden"); });
    ov.edges.forEach(function (g) { g.classList.remove("cg-hidden"); });
    ov.rect.remove(); ov.text.remove();
    c.classList.remove("cg-is-collapsed");
  };

  // ---- legend ----

  Explorer.prototype.legend = function () {
    const box = this.root.querySelector(".cg-legend");
    if (this.data.legend && this.data.legend.length) {
      box.appendChild(el("h3", null, "legend"));
      const rows = el("table", "cg-picture-legend");
      for (const r of this.data.legend) {          // [swatch, text, colour, ink, heading]
        const tr = el("tr");
        if (r[4]) {
          const th = el("td", "cg-legend-heading", r[1]); th.colSpan = 2; tr.appendChild(th);
        } else {
          const sw = el("td", "cg-legend-swatch", r[0]);
          sw.style.background = r[2];
          if (r[3]) sw.style.color = r[3];
          tr.appendChild(sw);
          tr.appendChild(el("td", null, r[1]));
        }
        rows.appendChild(tr);
      }
      box.appendChild(rows);
    }
    box.appendChild(el("h3", null, "gradient size (rms), as backward reaches each box"));
    const table = el("table");
    for (const row of this.data.scale) {
      const tr = el("tr");
      const sw = el("span", "cg-swatch"); sw.style.background = row[1];
      const td = el("td"); td.appendChild(sw); tr.appendChild(td);
      tr.appendChild(el("td", null, row[0]));
      tr.appendChild(el("td", null, row[2]));
      table.appendChild(tr);
    }
    const extra = [["#e69500", "active node"], ["#1f4e79", "forward: inputs flow into the op"],
      ["#c00000", "backward: the gradient flows back along this edge"]];
    for (const row of extra) {
      const tr = el("tr");
      const sw = el("span", "cg-swatch"); sw.style.background = row[0];
      const td = el("td"); td.appendChild(sw); tr.appendChild(td);
      const text = el("td", null, row[1]); text.colSpan = 2; tr.appendChild(text);
      table.appendChild(tr);
    }
    box.appendChild(table);
  };

  window.chaingradExplorer = Explorer;
  document.addEventListener("DOMContentLoaded", function () {
    const data = JSON.parse(document.getElementById("cg-data").textContent);
    const root = document.querySelector(".cg-explorer");
    if (!root) return;
    if (data.explore) window.chaingradPage = new Explorer(root, data.explore);
    else root.hidden = true;
  });
})();
