// Redoc's menu shows the Redocly logo from cdn.redoc.ly. The API docs make no third-party requests (and the
// Content-Security-Policy allows images from this site only), so that one image is dropped before the
// browser fetches it; Redoc then hides it by itself (its onError handler). Loaded before Redoc.
(function () {
  "use strict";
  var CDN = "https://cdn.redoc.ly/";
  function local(value) {
    return String(value).indexOf(CDN) === 0 ? "" : value;
  }
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    return setAttribute.call(this, name, this instanceof HTMLImageElement && name === "src" ? local(value) : value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) { src.set.call(this, local(value)); }
  });
})();
