/*
 * promotions.js: reports what the shopper actually saw and did, for CTR and dwell time.
 *
 * Tracked elements (rendered by the promotions template tags):
 *   data-promotions-kind="promotion" | "recommendation"
 *   data-promotions-promotion="<promotion id>"       (promotions)
 *   data-promotions-product="<product id>"           (recommendations; optional on promotions)
 *   data-promotions-recommendation="<recommendation id>", data-promotions-slot="<slot>" (optional)
 * A product page marks its main element with data-promotions-product-page="<product id>".
 *
 * An impression is counted when at least half of an element stayed in view for one
 * continuous second (once per element per page view); a click on click; dwell is the time
 * the product page was visible, sent when it is hidden. Events are batched and sent with
 * navigator.sendBeacon to the endpoint named by the script tag's data-endpoint attribute
 * (or window.PROMOTIONS_ENDPOINT). No dependencies, no other network access.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var endpoint = (script && script.dataset.endpoint) || window.PROMOTIONS_ENDPOINT;
  if (!endpoint || !window.JSON) {
    return;
  }

  var VISIBLE_RATIO = 0.5; // at least half of the element...
  var VISIBLE_MS = 1000; // ...for one continuous second
  var BATCH_SIZE = 25; // well under the endpoint's limits (50 events, 16 KB)
  var SEND_DELAY_MS = 2000; // impressions wait a little to share a request
  var MAX_DWELL_SECONDS = 86400;

  var queue = [];
  var sendTimer = null;
  var timers = new Map(); // element -> pending impression timer
  var seen = new WeakSet(); // elements whose impression was reported
  var observed = new Set(); // elements watched and not yet reported

  function uuid() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    // randomUUID needs a secure context; the endpoint also takes a uuid's 32 hex digits.
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b < 16 ? "0" : "") + b.toString(16);
      })
      .join("");
  }

  function describe(element, action) {
    var data = element.dataset;
    var event = { type: data.promotionsKind + "_" + action, id: uuid(), page: location.pathname };
    if (data.promotionsPromotion) event.promotion = parseInt(data.promotionsPromotion, 10);
    if (data.promotionsProduct) event.product = data.promotionsProduct;
    if (data.promotionsRecommendation) event.recommendation_id = data.promotionsRecommendation;
    if (data.promotionsSlot) event.slot = data.promotionsSlot;
    return event;
  }

  // The endpoint refuses a whole batch for one bad event: an element lacking its ids reports nothing.
  function complete(event) {
    if (event.type.indexOf("promotion_") === 0) return event.promotion > 0;
    if (event.type.indexOf("recommendation_") === 0) return Boolean(event.product);
    return false;
  }

  function report(element, action, now) {
    var event = describe(element, action);
    if (complete(event)) enqueue(event, now);
  }

  function post(body) {
    var blob = new Blob([body], { type: "text/plain" }); // a simple request: no CORS preflight
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, blob)) {
      return;
    }
    if (window.fetch) {
      fetch(endpoint, { method: "POST", body: blob, keepalive: true, credentials: "same-origin" }).catch(
        function () {}
      );
    }
  }

  function flush() {
    clearTimeout(sendTimer);
    sendTimer = null;
    while (queue.length) {
      post(JSON.stringify({ events: queue.splice(0, BATCH_SIZE) }));
    }
  }

  function enqueue(event, now) {
    queue.push(event);
    if (now || queue.length >= BATCH_SIZE) {
      flush();
    } else if (!sendTimer) {
      sendTimer = setTimeout(flush, SEND_DELAY_MS);
    }
  }

  // --- impressions ---------------------------------------------------------------------
  function stopTimer(element) {
    clearTimeout(timers.get(element));
    timers.delete(element);
  }

  function onIntersection(entries) {
    entries.forEach(function (entry) {
      var element = entry.target;
      if (seen.has(element)) return;
      var inView = entry.isIntersecting && entry.intersectionRatio >= VISIBLE_RATIO;
      if (!inView || document.visibilityState !== "visible") {
        stopTimer(element);
      } else if (!timers.has(element)) {
        timers.set(
          element,
          setTimeout(function () {
            timers.delete(element);
            seen.add(element);
            observed.delete(element);
            observer.unobserve(element);
            report(element, "impression");
          }, VISIBLE_MS)
        );
      }
    });
  }

  var observer = window.IntersectionObserver
    ? new IntersectionObserver(onIntersection, { threshold: VISIBLE_RATIO })
    : null;

  function watch(root) {
    if (!observer || !root.querySelectorAll) return;
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-promotions-kind]"));
    if (root.matches && root.matches("[data-promotions-kind]")) found.push(root);
    found.forEach(function (element) {
      if (!seen.has(element) && !observed.has(element)) {
        observed.add(element);
        observer.observe(element);
      }
    });
  }

  // A hidden tab is not looked at: pending timers stop, and restart from fresh entries when shown.
  function pauseImpressions() {
    timers.forEach(function (timer) {
      clearTimeout(timer);
    });
    timers.clear();
  }

  function resumeImpressions() {
    observed.forEach(function (element) {
      observer.unobserve(element);
      observer.observe(element);
    });
  }

  // --- clicks ----------------------------------------------------------------------------
  document.addEventListener(
    "click",
    function (e) {
      var element = e.target.closest && e.target.closest("[data-promotions-kind]");
      if (element) {
        report(element, "click", true); // the page may be about to unload
      }
    },
    true
  );

  // --- dwell -----------------------------------------------------------------------------
  var productPage = document.querySelector("[data-promotions-product-page]");
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var visibleMs = 0;

  function endDwell() {
    if (visibleSince !== null) {
      visibleMs += Date.now() - visibleSince;
      visibleSince = null;
    }
    if (productPage && visibleMs > 0) {
      var seconds = Math.min(Math.round(visibleMs / 100) / 10, MAX_DWELL_SECONDS);
      visibleMs = 0;
      enqueue({
        type: "dwell",
        id: uuid(),
        product: productPage.dataset.promotionsProductPage,
        dwell_seconds: seconds,
        page: location.pathname,
      });
    }
  }

  function onHidden() {
    pauseImpressions();
    endDwell();
    flush();
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      onHidden();
    } else {
      visibleSince = Date.now();
      if (observer) resumeImpressions();
    }
  });
  window.addEventListener("pagehide", onHidden);

  // --- start ------------------------------------------------------------------------------
  function start() {
    watch(document);
    if (observer && window.MutationObserver) {
      // Widgets inserted later (a lazy-loaded carousel) are watched too.
      new MutationObserver(function (mutations) {
        mutations.forEach(function (mutation) {
          mutation.addedNodes.forEach(watch);
        });
      }).observe(document.body, { childList: true, subtree: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
