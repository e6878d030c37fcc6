/*
 * The support chat widget. Everything from the server is shown with textContent (never as HTML).
 * The conversation lives on the server (tied to the session), so after a reload or on another page the
 * widget fetches it again; sessionStorage only remembers whether the panel was open.
 * While open it polls GET <endpoint>?after=<last id> with If-None-Match, so staff replies appear within
 * about a second; while closed it polls slowly only when staff have the conversation.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-ai-chat]");
  if (!root) { return; }
  var OPEN_KEY = "aiChatOpen";
  var KNOWN_KEY = "aiChatKnown";
  var pollMs = parseInt(root.dataset.pollMs, 10) || 1000;
  var maxLength = parseInt(root.dataset.maxLength, 10) || 1000;
  var launcher = root.querySelector("[data-chat-launcher]");
  var panel = root.querySelector("[data-chat-panel]");
  var closeButton = root.querySelector("[data-chat-close]");
  var log = root.querySelector("[data-chat-log]");
  var typing = root.querySelector("[data-chat-typing]");
  var errorBox = root.querySelector("[data-chat-error]");
  var offline = root.querySelector("[data-chat-offline]");
  var form = root.querySelector("[data-chat-form]");
  var input = root.querySelector("[data-chat-input]");
  var rating = root.querySelector("[data-chat-rating]");
  var badge = root.querySelector("[data-chat-badge]");
  var cursor = 0;
  var etag = null;
  var state = null;
  var timer = null;
  var polling = false;
  var sending = false;
  var shown = {};
  var readUpTo = 0;

  function storage(key, value) {
    try {
      if (value === undefined) { return window.sessionStorage.getItem(key); }
      if (value === null) { window.sessionStorage.removeItem(key); } else { window.sessionStorage.setItem(key, value); }
    } catch (e) { /* storage disabled: the widget still works, it just starts closed */ }
    return null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeUrl(url) {
    // Only links within this site (a path), never javascript: or another origin.
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : null;
  }

  function deliveryText(message) {
    if (message.pending) { return "Sending…"; }
    if (message.failed) { return "Not sent"; }
    if (message.id && message.id <= readUpTo) { return "Read"; }
    return "Delivered";
  }

  function productCards(products) {
    var list = el("ul", "ai-chat-cards");
    products.forEach(function (product) {
      var item = el("li", "ai-chat-card");
      var href = safeUrl(product.url);
      var link = el(href ? "a" : "span", "ai-chat-card-link");
      if (href) { link.href = href; }
      link.appendChild(el("span", "ai-chat-card-title", product.title));
      link.appendChild(el("span", "ai-chat-card-price", "£" + product.price));
      item.appendChild(link);
      list.appendChild(item);
    });
    return list;
  }

  function quickReplies(options) {
    var group = el("div", "ai-chat-quick");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    options.forEach(function (option) {
      var button = el("button", "ai-chat-quick-reply", option);
      button.type = "button";
      button.addEventListener("click", function () {
        group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        send(option);
      });
      group.appendChild(button);
    });
    return group;
  }

  function render(message) {
    var item = el("li", "ai-chat-msg ai-chat-msg-" + message.sender);
    if (message.id) { item.dataset.messageId = message.id; }
    if (message.sender === "agent") {
      item.appendChild(el("span", "ai-chat-label", "Agent · " + (message.agent_name || "Staff")));
    } else if (message.sender === "bot") {
      item.appendChild(el("span", "ai-chat-visually-hidden", "Assistant:"));
    } else {
      item.appendChild(el("span", "ai-chat-visually-hidden", "You:"));
    }
    item.appendChild(el("p", "ai-chat-text", message.text));
    if (message.products && message.products.length) { item.appendChild(productCards(message.products)); }
    if (message.quick_replies && message.quick_replies.length) { item.appendChild(quickReplies(message.quick_replies)); }
    if (message.sender === "shopper") {
      var status = el("span", "ai-chat-delivery", deliveryText(message));
      status.dataset.delivery = "";
      item.appendChild(status);
    }
    return item;
  }

  function append(message) {
    if (message.id && shown[message.id]) { return; }
    if (message.id) { shown[message.id] = true; }
    log.appendChild(render(message));
    if (message.id && message.id > cursor) { cursor = message.id; }
    log.scrollTop = log.scrollHeight;
    if (message.sender === "agent" && panel.hidden) { badge.hidden = false; }
  }

  function refreshDelivery() {
    log.querySelectorAll(".ai-chat-msg-shopper[data-message-id]").forEach(function (item) {
      var id = parseInt(item.dataset.messageId, 10);
      var status = item.querySelector("[data-delivery]");
      if (status) { status.textContent = id <= readUpTo ? "Read" : "Delivered"; }
    });
  }

  function applyState(conversation) {
    if (!conversation) { return; }
    state = conversation;
    if (conversation.status) { storage(KNOWN_KEY, "1"); }
    readUpTo = conversation.read_up_to || 0;
    refreshDelivery();
    var waiting = conversation.status === "waiting" || conversation.status === "staff";
    offline.hidden = !(waiting && !conversation.staff_online);
    rating.hidden = !(conversation.can_rate && !conversation.rated);
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function request(method, url, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = root.dataset.csrfToken;
    } else if (etag) {
      headers["If-None-Match"] = etag;
    }
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body ? JSON.stringify(body) : undefined
    });
  }

  function errorMessage(response) {
    return response.json().then(function (data) {
      return (data && data.error && data.error.message) || "Something went wrong. Please try again.";
    }, function () { return "Something went wrong. Please try again."; });
  }

  function poll() {
    if (polling) { return Promise.resolve(); }
    polling = true;
    return request("GET", root.dataset.endpoint + "?after=" + cursor).then(function (response) {
      if (response.status === 304) { return; }
      if (!response.ok) { return; }
      etag = response.headers.get("ETag");
      return response.json().then(function (data) {
        (data.messages || []).forEach(append);
        applyState(data.conversation);
      });
    }).catch(function () { /* offline for a moment: the next poll retries */ }).then(function () {
      polling = false;
      schedule();
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    var withStaff = state && (state.status === "waiting" || state.status === "staff");
    if (!panel.hidden) {
      timer = window.setTimeout(poll, pollMs);
    } else if (withStaff) {
      timer = window.setTimeout(poll, pollMs * 5);
    }
  }

  function send(text) {
    text = (text || "").trim();
    if (!text || sending) { return; }
    if (text.length > maxLength) {
      showError("Messages can be at most " + maxLength + " characters long.");
      return;
    }
    showError("");
    sending = true;
    var local = { sender: "shopper", text: text, pending: true };
    var item = render(local);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    typing.hidden = false;
    request("POST", root.dataset.messagesEndpoint, { text: text }).then(function (response) {
      if (!response.ok) {
        return errorMessage(response).then(function (message) {
          item.querySelector("[data-delivery]").textContent = "Not sent";
          item.classList.add("ai-chat-failed");
          showError(message);
        });
      }
      return response.json().then(function (data) {
        item.remove();
        (data.messages || []).forEach(append);
        applyState(data.conversation);
      });
    }).catch(function () {
      item.querySelector("[data-delivery]").textContent = "Not sent";
      showError("You seem to be offline. Please try again.");
    }).then(function () {
      sending = false;
      typing.hidden = true;
      schedule();
    });
  }

  function focusable() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button, [href], input, textarea, select, [tabindex]:not([tabindex='-1'])"),
      function (node) { return !node.disabled && node.offsetParent !== null; }
    );
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    badge.hidden = true;
    storage(OPEN_KEY, "1");
    input.focus();
    poll();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    storage(OPEN_KEY, null);
    launcher.focus();
    schedule();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { close(); } });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      return;
    }
    if (event.key !== "Tab") { return; }
    var nodes = focusable();
    if (!nodes.length) { return; }
    var first = nodes[0];
    var last = nodes[nodes.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  rating.addEventListener("click", function (event) {
    var button = event.target.closest("[data-rating]");
    if (!button) { return; }
    var comment = rating.querySelector("input[name=comment]").value;
    request("POST", root.dataset.ratingEndpoint, { positive: button.dataset.rating === "true", comment: comment })
      .then(function (response) {
        if (!response.ok) { return errorMessage(response).then(showError); }
        rating.hidden = true;
        log.appendChild(render({ sender: "bot", text: "Thank you for your feedback!" }));
      });
  });

  if (storage(OPEN_KEY) === "1") {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    poll();
  } else if (storage(KNOWN_KEY) === "1") {
    poll();  // load the conversation (and see whether staff replied) without opening the panel
  }
}());
