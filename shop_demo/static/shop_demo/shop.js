/* Demo shop: forms inside the promotions tags' HTML (kept per process for every visitor) carry no
 * CSRF token; copy the page's token into them when they are sent. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-csrf") || !meta) return;
    var field = form.querySelector('input[name="csrfmiddlewaretoken"]');
    if (field) field.value = meta.getAttribute("content");
  }, true);
})();
