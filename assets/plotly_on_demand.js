// Charts draw with the app's own plotly.js build (assets/on_demand/build_plotly.sh): only the trace types the
// pages use, a third of the full bundle's bytes. dcc.Graph waits on window.Plotly when it is set rather than
// fetching the full bundle, and resolves it as a promise: this stand-in fetches the build on the first chart a
// page draws (pages without charts never fetch it), and the build's own script then takes window.Plotly over.
(function () {
    'use strict';
    var BUNDLE = 'on_demand/plotly-4.1.1-513ee62e21.min.js';
    if (window.Plotly) {
        return;
    }
    var loading = null;
    function load() {
        var config = document.getElementById('_dash-config');
        var prefix = (config && JSON.parse(config.textContent).requests_pathname_prefix) || '/';
        return new Promise(function (resolve, reject) {
            var script = document.createElement('script');
            script.src = prefix + 'assets/' + BUNDLE;
            script.async = true;
            script.onload = function () { resolve(); };
            script.onerror = function () {
                loading = null;  // the next chart tries again
                reject(new Error('plotly.js did not load from ' + script.src));
            };
            document.head.appendChild(script);
        });
    }
    window.Plotly = {
        then: function (resolve, reject) {
            loading = loading || load();
            return loading.then(resolve, reject);
        }
    };
})();
