/* cybersafe report: search and filter the findings in the page (no network, nothing stored). Without this
   script every finding is shown and the filter form stays hidden. Kept free of double braces and brace-hash
   (the file is included by a Jinja template). */
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var query = document.getElementById("f-q");
  var scheme = document.getElementById("f-scheme");
  var count = document.getElementById("f-count");
  var none = document.getElementById("f-none");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox]"));
  var checks = [];
  var total = 0;
  Array.prototype.forEach.call(document.querySelectorAll("article.check"), function (article) {
    var rows = Array.prototype.slice.call(article.querySelectorAll("tr[data-v]"));
    var head = article.querySelector("h3");
    var entry = {
      el: article,
      schemes: " " + (article.getAttribute("data-schemes") || "") + " ",
      head: ((article.getAttribute("data-id") || "") + " " + (head ? head.textContent : "")).toLowerCase(),
      fix: (article.querySelector(".fix") || { textContent: "" }).textContent.toLowerCase(),
      rows: rows.length ? rows.map(function (row) {
        return { el: row, v: row.getAttribute("data-v"), s: row.getAttribute("data-s"), text: null };
      }) : [{ el: null, v: article.getAttribute("data-v"), s: article.getAttribute("data-s"), text: "" }]
    };
    total += entry.rows.length;
    checks.push(entry);
  });

  function selected(name) {
    var out = {};
    boxes.forEach(function (box) { if (box.name === name && box.checked) { out[box.value] = true; } });
    return out;
  }

  function matches(entry, row, terms) {
    if (!terms.length) { return true; }
    if (row.text === null) { row.text = row.el.textContent.toLowerCase(); }
    var text = entry.head + " " + entry.fix + " " + row.text;
    return terms.every(function (term) { return text.indexOf(term) !== -1; });
  }

  function apply() {
    var terms = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var verdicts = selected("v");
    var severities = selected("s");
    var wanted = scheme.value ? " " + scheme.value + " " : "";
    var shown = 0;
    var checksShown = 0;
    checks.forEach(function (entry) {
      var inScheme = !wanted || entry.schemes.indexOf(wanted) !== -1;
      var visible = 0;
      entry.rows.forEach(function (row) {
        var ok = inScheme && verdicts[row.v] === true && severities[row.s] === true && matches(entry, row, terms);
        if (row.el) { row.el.hidden = !ok; }
        if (ok) { visible += 1; }
      });
      entry.el.hidden = visible === 0;
      shown += visible;
      if (visible) { checksShown += 1; }
    });
    count.textContent = shown + " of " + total + " findings shown, in " + checksShown + " of " + checks.length + " checks";
    none.hidden = shown !== 0;
  }

  var timer = null;
  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(apply, 120);
  }

  form.hidden = false;
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  query.addEventListener("input", later);
  scheme.addEventListener("change", apply);
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  document.getElementById("f-problems").addEventListener("click", function () {
    boxes.forEach(function (box) {
      if (box.name === "v") { box.checked = box.value !== "pass" && box.value !== "not_applicable"; }
    });
    apply();
  });

  /* A link to a check the filters hide shows everything again; a link into a collapsed requirement table opens it. */
  function reveal() {
    var target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    if (!target) { return; }
    if (target.closest && target.closest("article.check[hidden]")) { form.reset(); apply(); }
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);

  /* Printing from the browser: every requirement table open, every filter off. */
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
    closed.forEach(function (d) { d.open = true; });
    form.reset();
    apply();
  });
  window.addEventListener("afterprint", function () { closed.forEach(function (d) { d.open = false; }); closed = []; });
  apply();
})();
