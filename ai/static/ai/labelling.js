/* The labelling page: keyboard-first, the next item over fetch (no reload). Data comes from data-
   attributes and the #ai-labels JSON script; no inline script or style (CSP). */
(function () {
  "use strict";
  var root = document.getElementById("ai-labelling");
  if (!root) { return; }
  var labels = JSON.parse(document.getElementById("ai-labels").textContent);
  var multi = root.dataset.multi === "1";
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var current = null;
  var history = [];   // ids of items shown before the current one
  var selected = [];  // multi-label: labels toggled on the current item
  var busy = false;
  var session = { started: Date.now(), count: 0 };
  var keyToLabel = {};
  labels.forEach(function (label) {
    if (label.digit) { keyToLabel[label.digit] = label.id; }
    if (label.hotkey) { keyToLabel[label.hotkey.toLowerCase()] = label.id; }
  });
  var nameOf = {};
  labels.forEach(function (label) { nameOf[label.id] = label.name; });

  function el(selector) { return root.querySelector(selector); }
  function setStatus(text) { el("[data-item=status]").textContent = text || ""; }

  function request(url, body) {
    var options = { headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
      options.body = JSON.stringify(body);
    }
    busy = true;
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        busy = false;
        if (!response.ok) { throw new Error(data.error || ("HTTP " + response.status)); }
        return data;
      });
    }).catch(function (error) { busy = false; setStatus(error.message); throw error; });
  }

  function showProgress(progress) {
    if (!progress) { return; }
    ["done", "total", "remaining", "mine"].forEach(function (key) {
      el("[data-progress=" + key + "]").textContent = progress[key];
    });
    var minutes = Math.max((Date.now() - session.started) / 60000, 1 / 60);
    el("[data-progress=session]").textContent = session.count;
    el("[data-progress=rate]").textContent = (session.count / minutes).toFixed(1);
  }

  function show(data, keepHistory) {
    if (!keepHistory && current) { history.push(current.id); }
    current = data.item;
    selected = current ? current.mine.slice() : [];
    showProgress(data.progress);
    var text = el("[data-item=text]");
    var meta = el("[data-item=meta]");
    var suggestion = el("[data-item=suggestion]");
    var accept = root.querySelector("[data-action=accept]");
    root.querySelectorAll(".ai-label-button").forEach(function (button) {
      var id = Number(button.dataset.label);
      button.setAttribute("aria-pressed", current && selected.indexOf(id) >= 0 ? "true" : "false");
      button.classList.toggle("ai-suggested", !!(current && current.suggestion && current.suggestion.label === id));
      button.disabled = !current;
    });
    if (!current) {
      text.textContent = "Nothing left to label in this set for you. Thank you!";
      meta.textContent = "";
      suggestion.hidden = true;
      accept.hidden = true;
      root.dataset.itemId = "";
      return;
    }
    root.dataset.itemId = String(current.id);
    text.textContent = current.text;
    var parts = ["#" + current.id];
    if (current.split) { parts.push("split: " + current.split); }
    Object.keys(current.metadata || {}).forEach(function (key) { parts.push(key + ": " + String(current.metadata[key])); });
    if (current.mine.length) { parts.push("your label: " + current.mine.map(function (id) { return nameOf[id]; }).join(", ")); }
    meta.textContent = parts.join(" · ");
    if (current.suggestion) {
      suggestion.textContent = "Model suggests: " + nameOf[current.suggestion.label] + " (" + Math.round(current.suggestion.score * 100) + "%) — Enter accepts";
      suggestion.hidden = false;
      accept.hidden = false;
    } else {
      suggestion.hidden = true;
      accept.hidden = true;
    }
  }

  function submit(labelIds, accepted) {
    if (!current || busy) { return; }
    request(root.dataset.annotateUrl, { item: current.id, labels: labelIds, accepted_suggestion: !!accepted })
      .then(function (data) { session.count += 1; setStatus(""); show(data); });
  }

  function chooseLabel(id) {
    if (!current) { return; }
    if (!multi) { submit([id], false); return; }
    var at = selected.indexOf(id);
    if (at >= 0) { selected.splice(at, 1); } else { selected.push(id); }
    root.querySelectorAll(".ai-label-button").forEach(function (button) {
      button.setAttribute("aria-pressed", selected.indexOf(Number(button.dataset.label)) >= 0 ? "true" : "false");
    });
  }

  function accept() {
    if (multi && selected.length) { submit(selected, false); return; }
    if (current && current.suggestion) { submit([current.suggestion.label], true); }
  }

  function skip() {
    if (!current || busy) { return; }
    request(root.dataset.skipUrl, { item: current.id }).then(function (data) { setStatus("Skipped."); show(data); });
  }

  function undo() {
    if (busy) { return; }
    request(root.dataset.undoUrl, {}).then(function (data) {
      session.count = Math.max(0, session.count - 1);
      setStatus("Undone: label this item again.");
      show(data);
    });
  }

  function back() {
    if (busy || !history.length) { return; }
    var id = history.pop();
    request(root.dataset.itemUrl + id + "/").then(function (data) { setStatus("Previous item: label it again to change it."); show(data, true); });
  }

  function toggleHelp() {
    var help = root.querySelector("[data-help]");
    help.hidden = !help.hidden;
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.dataset.label) { chooseLabel(Number(button.dataset.label)); return; }
    var action = button.dataset.action;
    if (action === "skip") { skip(); } else if (action === "undo") { undo(); } else if (action === "back") { back(); }
    else if (action === "accept" || action === "submit") { accept(); } else if (action === "help") { toggleHelp(); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") { return; }
    var key = event.key;
    var handled = true;
    if (key === "Enter") { accept(); }
    else if (key === "ArrowLeft") { back(); }
    else if (key === "?") { toggleHelp(); }
    else if (key === "s" || key === "S") { skip(); }
    else if (key === "u" || key === "U") { undo(); }
    else if (keyToLabel[key.toLowerCase()] !== undefined) { chooseLabel(keyToLabel[key.toLowerCase()]); }
    else { handled = false; }
    if (handled) { event.preventDefault(); }
  });

  var start = root.dataset.startItem;
  request(start ? root.dataset.itemUrl + start + "/" : root.dataset.nextUrl).then(function (data) { show(data, true); });
}());
