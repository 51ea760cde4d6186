/* chaingrad playground: replays a training run recorded by ag.viz.Recorder.
 *
 * Left: the data points on the map of the class the model predicted after the
 * chosen epoch (stronger colour = more confident). Right: the loss per epoch,
 * with the chosen epoch marked. A slider (and a play button) moves through
 * the recorded epochs. Nothing is computed here beyond drawing. A loss or an
 * accuracy that was not finite arrives as the text "nan" or "inf" (JSON has
 * no such numbers): it is shown as that text and left out of the curve.
 */
(function () {
  "use strict";
  const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"];
  const CLASS_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz";

  function color(c) { return PALETTE[c % PALETTE.length]; }

  function finite(v) { return typeof v === "number" && isFinite(v); }

  function numText(v, digits) { return finite(v) ? v.toFixed(digits) : String(v); }

  function tint(c, strength) {     // the class colour mixed with white: opaque, so cells show no seams
    const hex = color(c);
    const mix = function (i) {
      const v = parseInt(hex.substr(i, 2), 16);
      return Math.round(255 - strength * (255 - v));
    };
    return "rgb(" + mix(1) + "," + mix(3) + "," + mix(5) + ")";
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function Playground(root, data) {
    this.data = data;
    this.epochs = data.epochs;
    root.appendChild(el("h1", "cg-title", data.title));
    const bar = el("div", "cg-bar");
    this.play = el("button", "cg-play", "▶ play");
    this.play.type = "button";
    this.slider = el("input", "cg-epoch-slider");
    this.slider.type = "range"; this.slider.min = "0"; this.slider.max = String(this.epochs.length - 1);
    this.slider.setAttribute("aria-label", "epoch");
    this.caption = el("span", "cg-epoch-caption cg-mono");
    bar.appendChild(this.play); bar.appendChild(this.slider); bar.appendChild(this.caption);
    root.appendChild(bar);
    const row = el("div", "cg-pg-row");
    this.map = el("canvas", "cg-map"); this.map.width = 360; this.map.height = 360;
    this.map.title = "decision regions after the chosen epoch, with the data points";
    this.curve = el("canvas", "cg-curve"); this.curve.width = 420; this.curve.height = 200;
    this.curve.title = "training loss per epoch";
    row.appendChild(this.map); row.appendChild(this.curve);
    root.appendChild(row);
    const self = this;
    this.slider.addEventListener("input", function () { self.show(Number(self.slider.value)); });
    this.play.addEventListener("click", function () { self.toggle(); });
    this.show(this.epochs.length - 1);
  }

  Playground.prototype.toggle = function () {
    const self = this;
    if (this.timer) { clearInterval(this.timer); this.timer = null; this.play.textContent = "▶ play"; return; }
    if (this.k >= this.epochs.length - 1) this.show(0);
    this.play.textContent = "❚❚ pause";
    this.timer = setInterval(function () {
      if (self.k >= self.epochs.length - 1) { self.toggle(); return; }
      self.show(self.k + 1);
    }, 300);
  };

  Playground.prototype.show = function (k) {
    this.k = k;
    this.slider.value = String(k);
    const e = this.epochs[k];
    this.caption.textContent = "epoch " + e.epoch + " (" + (k + 1) + " of " + this.epochs.length + "): loss " +
      numText(e.loss, 4) + (e.accuracy === null ? "" : ", accuracy " +
      (finite(e.accuracy) ? (100 * e.accuracy).toFixed(1) + "%" : String(e.accuracy)));
    this.drawMap(e);
    this.drawCurve(k);
  };

  Playground.prototype.drawMap = function (e) {
    const d = this.data, n = d.resolution, ctx = this.map.getContext("2d");
    const W = this.map.width, H = this.map.height, cw = W / n, ch = H / n;
    ctx.clearRect(0, 0, W, H);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const c = CLASS_CHARS.indexOf(e.classes[i * n + j]);
        const conf = Number(e.confidence[i * n + j]) / 9;
        ctx.fillStyle = tint(c, 0.12 + 0.38 * conf);
        ctx.fillRect(Math.floor(j * cw), Math.floor(i * ch), Math.ceil(cw) + 1, Math.ceil(ch) + 1);
      }
    }
    const ex = d.extent, px = d.points;
    for (let i = 0; i < px.x.length; i++) {
      const x = (px.x[i] - ex[0]) / (ex[1] - ex[0]) * W;
      const y = (ex[3] - px.y[i]) / (ex[3] - ex[2]) * H;
      ctx.beginPath(); ctx.arc(x, y, 2.6, 0, 2 * Math.PI);
      ctx.fillStyle = color(px.label[i]); ctx.fill();
      ctx.lineWidth = 0.7; ctx.strokeStyle = "#222"; ctx.stroke();
    }
  };

  Playground.prototype.drawCurve = function (k) {
    const ctx = this.curve.getContext("2d"), W = this.curve.width, H = this.curve.height;
    const pad = { l: 48, r: 10, t: 12, b: 26 };
    ctx.clearRect(0, 0, W, H);
    const losses = this.epochs.map(function (e) { return e.loss; });
    const shown = losses.filter(finite);
    const top = shown.length ? Math.max.apply(null, shown) : 1;
    const low = Math.min(0, shown.length ? Math.min.apply(null, shown) : 0);
    const n = losses.length;
    const X = function (i) { return pad.l + (n === 1 ? 0 : i / (n - 1)) * (W - pad.l - pad.r); };
    const Y = function (v) { return pad.t + (top === low ? 0.5 : (top - v) / (top - low)) * (H - pad.t - pad.b); };
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(pad.l, pad.t); ctx.lineTo(pad.l, H - pad.b); ctx.lineTo(W - pad.r, H - pad.b); ctx.stroke();
    ctx.fillStyle = "#444"; ctx.font = "11px Helvetica, sans-serif";
    ctx.fillText(top.toPrecision(3), 4, pad.t + 8);
    ctx.fillText(low.toPrecision(3), 4, H - pad.b);
    ctx.fillText("epoch " + this.epochs[0].epoch, pad.l, H - 8);
    ctx.fillText("epoch " + this.epochs[n - 1].epoch, W - pad.r - 60, H - 8);
    ctx.fillText("loss", pad.l + 6, pad.t + 8);
    ctx.strokeStyle = "#1f4e79"; ctx.lineWidth = 2;
    ctx.beginPath();
    let gap = true;                  // a non-finite loss breaks the line
    losses.forEach(function (v, i) {
      if (!finite(v)) { gap = true; return; }
      if (gap) ctx.moveTo(X(i), Y(v)); else ctx.lineTo(X(i), Y(v));
      gap = false;
    });
    ctx.stroke();
    if (!finite(losses[k])) return;
    ctx.fillStyle = "#c00000";
    ctx.beginPath(); ctx.arc(X(k), Y(losses[k]), 4.5, 0, 2 * Math.PI); ctx.fill();
  };

  window.chaingradPlayground = Playground;
  document.addEventListener("DOMContentLoaded", function () {
    const data = JSON.parse(document.getElementById("cg-data").textContent);
    const root = document.querySelector(".cg-playground");
    if (data.playground && root) window.chaingradPlaygroundPage = new Playground(root, data.playground);
  });
})();
