/*
 * ai-beacon.js: tells the shop which recommendations a shopper actually saw and clicked.
 * Plain JavaScript, no build step. Include once per page:
 *   <script src="{% static 'ai/beacon.js' %}" defer></script>
 *
 * The markup it reads (rendered by the recommendations template tag; names are binding):
 *   <section data-rec-list
 *            data-placement="product_detail"       placement name
 *            data-model-version="12"               model version id, or "" when no model served the list
 *            data-list-id="a1b2c3">                id of this rendered list
 *     <a data-rec-item data-product-id="42" href="...">...</a>
 *     ...
 *   </section>
 *
 * - Impression: when at least half of a list has scrolled into view (IntersectionObserver), once per
 *   list per page: {type: "rec_impression", placement, model_version, list_id, product_ids: [...]}.
 * - Click: a click on an item link: {type: "rec_click", placement, model_version, list_id, product_id,
 *   position} (position counts from 0 in the list).
 * Events go to the beacon URL (data-ai-beacon-url on <body> or <html>, default "/ai/beacon/") as JSON with
 * navigator.sendBeacon, which survives the page unloading after a click; fetch with keepalive otherwise.
 * Impressions seen at about the same time are sent together. The server ignores opted-out visitors.
 */
(function () {
  "use strict";

  var MAX_EVENTS = 50;          // AI_BEACON_MAX_EVENTS on the server
  var FLUSH_DELAY_MS = 1000;
  var queue = [];
  var timer = null;

  function beaconUrl() {
    var el = document.body && document.body.hasAttribute("data-ai-beacon-url") ? document.body : document.documentElement;
    return el.getAttribute("data-ai-beacon-url") || "/ai/beacon/";
  }

  function send(events) {
    if (!events.length) return;
    var body = JSON.stringify({ events: events });
    var url = beaconUrl();
    // A string body goes as text/plain: no CORS preflight, and the server accepts it.
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    if (window.fetch) {
      fetch(url, {
        method: "POST",
        body: body,
        keepalive: true,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" }
      }).catch(function () { /* best effort: never disturb the page */ });
    }
  }

  function flush() {
    if (timer) { clearTimeout(timer); timer = null; }
    while (queue.length) send(queue.splice(0, MAX_EVENTS));
  }

  function enqueue(event, immediately) {
    queue.push(event);
    if (immediately || queue.length >= MAX_EVENTS) { flush(); return; }
    if (!timer) timer = setTimeout(flush, FLUSH_DELAY_MS);
  }

  function listInfo(list) {
    var version = list.getAttribute("data-model-version");
    return {
      placement: list.getAttribute("data-placement") || "",
      model_version: version ? parseInt(version, 10) : null,
      list_id: list.getAttribute("data-list-id") || ""
    };
  }

  function items(list) {
    return Array.prototype.slice.call(list.querySelectorAll("a[data-rec-item][data-product-id]"));
  }

  function productIds(list) {
    return items(list)
      .map(function (a) { return parseInt(a.getAttribute("data-product-id"), 10); })
      .filter(function (id) { return id > 0; });
  }

  function impression(list) {
    if (list.hasAttribute("data-rec-seen")) return;
    list.setAttribute("data-rec-seen", "");
    var ids = productIds(list);
    if (!ids.length) return;
    var info = listInfo(list);
    enqueue({ type: "rec_impression", placement: info.placement, model_version: info.model_version,
              list_id: info.list_id, product_ids: ids.slice(0, 100) }, false);
  }

  function onClick(event) {
    var link = event.target.closest && event.target.closest("a[data-rec-item][data-product-id]");
    if (!link) return;
    var list = link.closest("[data-rec-list]");
    if (!list) return;
    var productId = parseInt(link.getAttribute("data-product-id"), 10);
    if (!(productId > 0)) return;
    if (!list.hasAttribute("data-rec-seen")) impression(list);  // a click proves it was seen
    var info = listInfo(list);
    enqueue({ type: "rec_click", placement: info.placement, model_version: info.model_version,
              list_id: info.list_id, product_id: productId, position: items(list).indexOf(link) }, true);
  }

  function observe() {
    var lists = document.querySelectorAll("[data-rec-list]");
    if (!lists.length) return;
    if (!("IntersectionObserver" in window)) {
      // No observer (very old browsers): count what was rendered as seen.
      Array.prototype.forEach.call(lists, impression);
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          impression(entry.target);
          observer.unobserve(entry.target);
        }
      });
    }, { threshold: 0.5 });
    Array.prototype.forEach.call(lists, function (list) { observer.observe(list); });
  }

  document.addEventListener("click", onClick, true);
  // Send what is queued before the page goes away (tab hidden, navigation).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", observe);
  } else {
    observe();
  }
})();
