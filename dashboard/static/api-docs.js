// Swagger UI for /api/v1: the document and every asset come from this server, and calls made with
// the browser's session send the page's CSRF token, as the API requires for changes.
(function () {
  function meta(name) {
    return document.querySelector('meta[name="' + name + '"]').getAttribute("content");
  }
  window.ui = SwaggerUIBundle({
    url: meta("openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    withCredentials: true,
    requestInterceptor: function (request) {
      request.headers["X-CSRFToken"] = meta("csrf-token");
      return request;
    },
  });
})();
