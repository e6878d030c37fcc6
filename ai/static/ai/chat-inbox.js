/*
 * The staff inbox's live view: polls for new messages every second and appends them (as text, never as
 * HTML); fills the reply box from a canned response.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-ai-inbox]");
  if (!root) { return; }
  var body = root.querySelector("[data-inbox-messages]");
  var statusEl = root.querySelector("[data-inbox-status]");
  var cursor = parseInt(root.dataset.cursor, 10) || 0;
  var canned = root.querySelector("[data-canned]");
  var reply = root.querySelector("[data-reply-text]");
  var SENDERS = { shopper: "Shopper", bot: "Bot", agent: "Agent" };

  if (canned && reply) {
    canned.addEventListener("change", function () {
      if (canned.value) { reply.value = canned.value; reply.focus(); }
      canned.selectedIndex = 0;
    });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function add(message) {
    if (body.querySelector("[data-message-id='" + message.id + "']")) { return; }
    var row = document.createElement("tr");
    row.className = "ai-inbox-row ai-inbox-" + message.sender;
    row.dataset.messageId = message.id;
    cell(row, (SENDERS[message.sender] || message.sender) + (message.author ? " (" + message.author + ")" : ""));
    var text = cell(row, message.text + (message.products.length ? "\n· " + message.products.join("\n· ") : ""));
    text.className = "ai-inbox-text";
    cell(row, message.intent || "–");
    cell(row, message.confidence === null ? "–" : message.confidence.toFixed(3));
    cell(row, message.delivery).dataset.delivery = "";
    cell(row, new Date(message.created_at).toLocaleTimeString());
    body.appendChild(row);
    cursor = Math.max(cursor, message.id);
  }

  function poll() {
    fetch(root.dataset.pollUrl + "?after=" + cursor, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.messages.forEach(add);
        statusEl.textContent = data.status_label;
        Object.keys(data.delivery).forEach(function (id) {
          var row = body.querySelector("[data-message-id='" + id + "'] [data-delivery]");
          if (row) { row.textContent = data.delivery[id].charAt(0).toUpperCase() + data.delivery[id].slice(1); }
        });
      })
      .catch(function () { /* try again on the next tick */ })
      .then(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 1000);
}());
