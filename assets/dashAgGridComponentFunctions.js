/* Cell renderers for dash-ag-grid tables (named in columnDefs as cellRenderer). They build
 * elements only from the cell's value, never HTML strings, so no cell text is interpreted. */
(function () {
  var renderers = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});
  var OUTCOMES = {critical: ["fail \u00b7 critical", "text-bg-danger"], warning: ["fail \u00b7 warning", "text-bg-warning"],
                  pass: ["pass", "text-bg-success"]};
  var RUNS = {c: "critical", w: "warning", p: "pass"};

  /* A check's latest outcome as a badge: value is critical, warning or pass. */
  renderers.C360Outcome = function (props) {
    var outcome = OUTCOMES[props.value] || [String(props.value || ""), "text-bg-secondary"];
    return React.createElement("span", {className: "badge " + outcome[1]}, outcome[0]);
  };

  /* Recent runs, oldest first: value is a string of c (critical), w (warning) and p (pass). */
  renderers.C360RunStrip = function (props) {
    var runs = String(props.value || "").split("");
    return React.createElement("span", {className: "c360-run-strip", role: "img",
                                        "aria-label": props.data && props.data.trend_label},
      runs.map(function (run, index) {
        return React.createElement("span", {key: index, className: "c360-run-" + (RUNS[run] || "pass")});
      }));
  };

  /* An account name linking to its Customer 360 page (cellRendererParams.path + data.account_id). */
  renderers.C360AccountLink = function (props) {
    var id = props.data && props.data.account_id;
    if (!id) { return React.createElement("span", null, props.value == null ? "" : String(props.value)); }
    var path = (props.colDef.cellRendererParams && props.colDef.cellRendererParams.path) || "/accounts/";
    return React.createElement("a", {href: path + encodeURIComponent(id), className: "c360-account-link",
                                     title: "Open the Customer 360 page"}, String(props.value == null ? id : props.value));
  };

  /* A score chip drawn exactly as layouts.kit.scores.score_chip: shape, colour and a text label. */
  renderers.C360ScoreChip = function (props) {
    var params = props.colDef.cellRendererParams || {};
    var level = (params.levels || {})[props.value] || params.unknown ||
      {tone: "unknown", label: "Not scored", shape: "\u25cb"};
    return React.createElement("span", {className: "c360-chip c360-chip-" + level.tone, role: "button",
                                        title: (params.score || "Score") + ": " + level.label + ". Click for why."},
      React.createElement("span", {className: "c360-chip-shape", "aria-hidden": "true"}, level.shape), level.label);
  };
})();
