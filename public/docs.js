// The interactive API reference: Swagger UI (served from /vendor) on /openapi.json.
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  // No call to the online validator: everything stays on this origin.
  validatorUrl: null,
});
