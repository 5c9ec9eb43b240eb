/*
 * Fills the placeholders of the promotion tags' asynchronous mode ({% personalized_promotions async=True %}),
 * for pages served from a full-page cache: each <div data-promotions-async data-url="..."> is replaced by
 * the visitor's own promotions or products from the JSON API. Text goes in through textContent, never as HTML.
 * The elements carry the same data-promotions-* attributes as the server-rendered tags, so promotions.js
 * reports their impressions and clicks.
 */
(function () {
  "use strict";

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function productLink(product, slot) {
    var link = element("a", "", product.title);
    link.href = product.url;
    link.dataset.promotionsKind = "recommendation";
    link.dataset.promotionsProduct = product.id;
    link.dataset.promotionsSlot = slot;
    return link;
  }

  function promotions(results, slot) {
    var section = element("section", "promotions");
    results.forEach(function (promotion) {
      var article = element("article", "promotion");
      article.dataset.promotionsKind = "promotion";
      article.dataset.promotionsPromotion = String(promotion.id);
      article.dataset.promotionsSlot = slot;
      article.appendChild(element("p", "promotion-message", promotion.message));
      if (promotion.reason) article.appendChild(element("p", "promotion-reason", promotion.reason));
      if (promotion.products.length) {
        var list = element("ul", "promotion-products");
        promotion.products.forEach(function (product) {
          var item = element("li");
          item.appendChild(productLink(product, slot));
          list.appendChild(item);
        });
        article.appendChild(list);
      }
      section.appendChild(article);
    });
    return section;
  }

  function products(results, slot) {
    var list = element("ul", "recommended-products");
    results.forEach(function (product) {
      var item = element("li", "recommended-product");
      item.appendChild(productLink(product, slot));
      item.appendChild(element("span", "price", product.price));
      if (product.reason) item.appendChild(element("span", "reason", product.reason));
      list.appendChild(item);
    });
    return list;
  }

  function fill(placeholder) {
    var slot = placeholder.dataset.slot || "";
    fetch(placeholder.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (body) {
        if (!body.results || !body.results.length) {
          placeholder.remove();
          return;
        }
        var kind = placeholder.dataset.promotionsAsync;
        placeholder.replaceWith(kind === "promotions" ? promotions(body.results, slot) : products(body.results, slot));
      })
      .catch(function () {
        placeholder.remove(); // a page without its widget is better than a broken one
      });
  }

  function start() {
    document.querySelectorAll("[data-promotions-async]").forEach(fill);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
