// The headless example: recommendations and a priced basket through the public API only.
// No framework, no build step; the basket lives in this browser's localStorage.
(function () {
  "use strict";
  var meta = function (name) { return document.querySelector('meta[name="' + name + '"]').content; };
  var KEY = meta("promotions-api-key");
  var API = meta("promotions-api");
  var STORE = "headless-basket";
  var basket = JSON.parse(localStorage.getItem(STORE) || '{"lines": [], "codes": []}');

  function status(text) { document.getElementById("status").textContent = text || ""; }

  function call(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + KEY } };
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(response.status + ": " + JSON.stringify(data)); }
        return data;
      });
    });
  }

  function save() { localStorage.setItem(STORE, JSON.stringify(basket)); }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function add(product) {
    var line = basket.lines.find(function (l) { return l.product === product.id; });
    if (line) { line.quantity += 1; } else { basket.lines.push({ product: product.id, quantity: 1, title: product.title }); }
    save();
    refresh();
  }

  function showRecommendations() {
    var history = basket.lines.map(function (l) { return l.product; }).slice(-20);
    var query = history.length ? "history=" + encodeURIComponent(history.join(",")) : "visitor=headless-example";
    return call("GET", "recommendations/?k=6&" + query).then(function (answer) {
      var list = document.getElementById("recommendations");
      list.textContent = "";
      answer.results.forEach(function (product) {
        var item = element("li");
        item.appendChild(element("strong", product.title));
        item.appendChild(document.createTextNode(" " + product.price + " "));
        var button = element("button", "Add");
        button.type = "button";
        button.addEventListener("click", function () { add(product); });
        item.appendChild(button);
        item.appendChild(element("span", product.reason.text, "reason"));
        list.appendChild(item);
      });
      list.dataset.recommendationId = answer.recommendation_id;
    });
  }

  function showBasket() {
    var body = document.querySelector("#basket tbody");
    var foot = document.querySelector("#basket tfoot");
    var offers = document.getElementById("offers");
    body.textContent = foot.textContent = offers.textContent = "";
    if (!basket.lines.length) {
      body.appendChild(element("tr")).appendChild(element("td", "The basket is empty.")).colSpan = 5;
      return Promise.resolve();
    }
    var lines = basket.lines.map(function (l) { return { product: l.product, quantity: l.quantity }; });
    return call("POST", "baskets/price/", { visitor: "headless-example", lines: lines, codes: basket.codes })
      .then(function (priced) {
        priced.lines.forEach(function (line, index) {
          var row = body.insertRow();
          [basket.lines[index].title || line.product, line.quantity, line.unit_price, line.discount, line.total]
            .forEach(function (value) { row.insertCell().textContent = value; });
        });
        var total = foot.insertRow();
        total.insertCell().textContent = "Total (discount " + priced.discount + ")";
        total.insertCell().colSpan = 3;
        total.insertCell().textContent = priced.total;
        priced.applied.forEach(function (a) { offers.appendChild(element("li", "Applied: " + a.message + " (-" + a.amount + ")")); });
        priced.not_applied.forEach(function (n) { offers.appendChild(element("li", "Not applied: " + n.message)); });
      });
  }

  function refresh() {
    status("");
    Promise.all([showRecommendations(), showBasket()]).catch(function (error) { status(String(error.message || error)); });
  }

  document.getElementById("code-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = document.getElementById("code").value.trim();
    if (code && basket.codes.indexOf(code) < 0) { basket.codes.push(code); save(); }
    refresh();
  });

  if (!KEY) { status("No API key yet: run manage.py demo, which creates the example's key."); return; }
  refresh();
})();
