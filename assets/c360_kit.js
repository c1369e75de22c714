/* LightTable and LightContent (layouts/kit/light.py): a whole read-only table, or a static element
 * tree, as one Dash component. Cells and content are strings, numbers or element trees ({tag,
 * className, title, style, href, children}); only the tags below are drawn and everything becomes
 * React elements, so no text is read as HTML. */
(function () {
  var kit = (window.c360_kit = window.c360_kit || {});
  var h = React.createElement;
  var TAGS = {span: 1, strong: 1, em: 1, small: 1, b: 1, i: 1, abbr: 1, code: 1, br: 1, div: 1, p: 1, ul: 1,
              ol: 1, li: 1, sup: 1, sub: 1, mark: 1, time: 1, a: 1, table: 1, thead: 1, tbody: 1, tfoot: 1,
              tr: 1, th: 1, td: 1, h6: 1, hr: 1};
  var EMPTY = {br: 1, hr: 1};
  var SAFE_HREF = /^(\/(?!\/)|https?:\/\/|mailto:|tel:|#)/i;

  /* A same-site link moves within the app the way dcc.Link does: no page reload. */
  function follow(event) {
    var href = event.currentTarget.getAttribute("href");
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey ||
        event.currentTarget.target || !/^\/(?!\/)/.test(href)) { return; }
    event.preventDefault();
    window.history.pushState({}, "", href);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  }

  function draw(value, key) {
    if (value === null || value === undefined) { return null; }
    if (Array.isArray(value)) { return value.map(draw); }
    if (typeof value !== "object") { return String(value); }
    var tag = TAGS[value.tag] ? value.tag : "span";
    var props = {key: key, className: value.className, title: value.title, style: value.style,
                 colSpan: value.colSpan, rowSpan: value.rowSpan, role: value.role};
    if (tag === "a") {
      props.href = SAFE_HREF.test(value.href || "") ? value.href : undefined;
      if (value.target) { props.target = value.target; props.rel = "noopener noreferrer"; }
      else { props.onClick = follow; }
    }
    return EMPTY[tag] ? h(tag, {key: key, className: value.className}) : h(tag, props, draw(value.children));
  }

  function row(cells, tag, numeric, numericClass, className, key) {
    return h("tr", {key: key, className: className || undefined}, (cells || []).map(function (cell, index) {
      return h(tag, {key: index, className: numeric.indexOf(index) >= 0 ? numericClass : undefined}, draw(cell));
    }));
  }

  kit.LightContent = function LightContent(props) {
    return h(React.Fragment, null, draw(props.content));
  };

  kit.LightTable = function LightTable(props) {
    var numeric = props.numeric || [];
    var classes = props.rowClassNames || [];
    var parts = [h("thead", {key: "h"}, row(props.header, "th", numeric, "text-end", null, 0)),
                 h("tbody", {key: "b"}, (props.rows || []).map(function (cells, index) {
                   return row(cells, "td", numeric, "text-end text-nowrap", classes[index], index);
                 }))];
    if (props.footer) { parts.push(h("tfoot", {key: "f"}, row(props.footer, "th", numeric, "text-end", null, 0))); }
    return h("div", {id: props.id, className: props.className, style: props.style},
             h("table", {className: props.tableClassName}, parts));
  };
})();
