// The dashboard: reads the tracker's own JSON API and draws it. No framework;
// uPlot (served from /vendor) draws the chart. Deep links: #/<metric_type>/<symbol>,
// then ?range=<chart range>&window=<volatility window> when not the defaults (24h).
"use strict";

(() => {
  const $ = (selector) => document.querySelector(selector);
  const params = new URLSearchParams(location.search);
  // How often to ask / whether a tick landed: ?poll=<seconds>, 1 to 300 (outside
  // that range, the nearest bound), default 15. Unbounded, ?poll=1e10 would
  // overflow setTimeout's 32-bit delay and poll without pause.
  const POLL = { min: 1, max: 300, default: 15 };
  const pollSeconds = Number(params.get("poll") || NaN);
  const POLL_MS =
    (Number.isNaN(pollSeconds) || pollSeconds <= 0 ? POLL.default : Math.min(POLL.max, Math.max(POLL.min, pollSeconds))) * 1000;

  const HOUR_MS = 3_600_000;
  const DAY_MS = 24 * HOUR_MS;
  /**
   * The chart's ranges: 24 h is the minute history; the others are candles
   * (/candles?interval=&since=). `since` starts at an interval boundary, so the
   * request (and its cached answer) stays the same for a whole interval; "all"
   * asks for 2,000 days counting today's, the API's maximum span.
   */
  const RANGES = {
    "24h": { during: "in the last 24 h" },
    "7d": { during: "in the last 7 days", interval: "1h", intervalMs: HOUR_MS, back: 7 * DAY_MS },
    "30d": { during: "in the last 30 days", interval: "1h", intervalMs: HOUR_MS, back: 30 * DAY_MS },
    "1y": { during: "in the last year", interval: "1d", intervalMs: DAY_MS, back: 365 * DAY_MS },
    all: { during: "kept (up to 2,000 days)", interval: "1d", intervalMs: DAY_MS, back: 1999 * DAY_MS },
  };
  /** The volatility ranking's windows (/ranking?window=). */
  const WINDOWS = { "24h": "24 h", "7d": "7 d", "30d": "30 d" };
  const DEFAULT_RANGE = "24h";
  const DEFAULT_WINDOW = "24h";

  const state = {
    types: [],
    type: null,
    symbol: null,
    latest: [], // [{symbol, time, value}] of the type
    ranking: [], // [{rank, symbol, stddev}] of the type
    range: DEFAULT_RANGE, // a key of RANGES: what the chart shows
    rankWindow: DEFAULT_WINDOW, // a key of WINDOWS: the ranking's window
    history: null, // the chart's series: {symbol, type, range, times: [s], values: [] (closes for candles), highs, lows, newestOpen, error}
    markets: null, // the chosen metric's /markets answer, or null
    sort: { key: "rank", dir: 1 },
    query: "",
    lastTick: undefined,
    sources: null, // /sources rows, or null where the Worker has no /sources
  };
  let chart = null;
  let chartKind = null; // "line" (minute history) or "candles"

  // --- the API ---------------------------------------------------------------

  /** GET a path of the API as JSON; `no-cache` revalidates with the ETag (cheap 304s). */
  async function api(path) {
    const response = await fetch(path, { headers: { accept: "application/json" }, cache: "no-cache" });
    const body = await response.json().catch(() => null);
    return { status: response.status, body };
  }

  async function must(path) {
    const { status, body } = await api(path);
    if (status !== 200) throw new Error(body?.error ?? `${path} answered ${status}`);
    return body;
  }

  // --- formatting ------------------------------------------------------------

  const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 3 });
  const precise = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 });
  const formatValue = (value) =>
    value === null || value === undefined ? "–" : Math.abs(value) >= 1e6 ? compact.format(value) : precise.format(value);
  const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 2 });
  const signedPercent = (fraction) => `${fraction > 0 ? "+" : fraction < 0 ? "−" : ""}${percent.format(Math.abs(fraction))}`;
  const formatTime = (ms) =>
    new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "className") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  // --- routing: #/<type>/<symbol>?range=&window= ------------------------------

  /** A hand-typed hash may hold a malformed escape (`#/price/%E0%A4%A`): read it as nothing chosen. */
  function decode(part) {
    try {
      return decodeURIComponent(part);
    } catch {
      return "";
    }
  }

  function readHash() {
    const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
    const [type, symbol] = path.split("/").map(decode);
    const options = new URLSearchParams(query);
    const range = options.get("range");
    const rankWindow = options.get("window");
    return {
      type: type || null,
      symbol: symbol ? symbol.toLowerCase() : null,
      range: Object.hasOwn(RANGES, range) ? range : DEFAULT_RANGE,
      rankWindow: Object.hasOwn(WINDOWS, rankWindow) ? rankWindow : DEFAULT_WINDOW,
    };
  }

  /** The link to a metric (or a type, symbol null), keeping the chosen range and window unless changed. */
  function linkTo(type, symbol, { range = state.range, rankWindow = state.rankWindow } = {}) {
    const options = new URLSearchParams();
    if (range !== DEFAULT_RANGE) options.set("range", range);
    if (rankWindow !== DEFAULT_WINDOW) options.set("window", rankWindow);
    const query = options.size ? `?${options}` : "";
    return `#/${encodeURIComponent(type)}${symbol ? `/${encodeURIComponent(symbol)}` : ""}${query}`;
  }

  /** Show what the hash names (or a sensible default); `reload` refetches the type's data. */
  async function route(reload = false) {
    const wanted = readHash();
    const type = state.types.includes(wanted.type) ? wanted.type : state.type ?? state.types[0];
    if (!type) return;
    state.range = wanted.range;
    if (reload || type !== state.type || wanted.rankWindow !== state.rankWindow || state.latest.length === 0) {
      state.type = type;
      state.rankWindow = wanted.rankWindow;
      await loadType();
    }
    let symbol = wanted.type === type ? wanted.symbol : null;
    if (!symbol || !state.latest.some((row) => row.symbol === symbol)) {
      // Nothing (valid) asked: show the most volatile metric.
      symbol = state.ranking[0]?.symbol ?? state.latest[0]?.symbol ?? null;
      if (symbol) history.replaceState(null, "", linkTo(type, symbol));
    }
    state.symbol = symbol;
    renderTypes();
    renderChoices();
    renderList();
    renderRanking();
    // Only the window changed: the chart stays, its header gives the new rank.
    const shown = state.history;
    if (!reload && shown && shown.type === type && shown.symbol === symbol && shown.range === state.range) renderMetric();
    else await loadMetric();
  }

  // --- loading ----------------------------------------------------------------

  async function loadType() {
    const { type, rankWindow } = state;
    const [latest, ranking] = await Promise.all([
      must(`/metric_types/${type}/latest`),
      must(`/metric_types/${type}/ranking${rankWindow === DEFAULT_WINDOW ? "" : `?window=${rankWindow}`}`),
    ]);
    if (type !== state.type || rankWindow !== state.rankWindow) return; // a newer choice won
    state.latest = latest.latest;
    state.ranking = ranking.ranking;
  }

  /** The query of a candle range: its interval, and `since` at an interval boundary `back` before now. */
  function candleQuery(range) {
    const { interval, intervalMs, back } = RANGES[range];
    const since = Math.floor(Date.now() / intervalMs) * intervalMs - back;
    return `interval=${interval}&since=${since}`;
  }

  async function loadMetric() {
    if (!state.symbol) {
      state.history = null;
      state.markets = null;
      renderMetric();
      return;
    }
    const { type, symbol, range } = state;
    const path = `/metric_types/${type}/metrics/${encodeURIComponent(symbol)}`;
    const candles = Boolean(RANGES[range].interval);
    const [{ status, body }, markets] = await Promise.all([
      api(candles ? `${path}/candles?${candleQuery(range)}` : `${path}/history`).catch((err) => ({ status: 0, body: { error: err.message } })),
      api(`${path}/markets`).catch(() => ({ status: 0, body: null })),
    ]);
    if (type !== state.type || symbol !== state.symbol || range !== state.range) return; // a newer choice won
    state.markets = markets.status === 200 ? markets.body : null;
    if (status !== 200) {
      state.history = { type, symbol, range, times: [], values: [], error: body?.error ?? `HTTP ${status}` };
    } else if (candles) {
      state.history = {
        type,
        symbol,
        range,
        times: body.candles.map((candle) => Date.parse(candle.time) / 1000),
        values: body.candles.map((candle) => candle.close),
        highs: body.candles.map((candle) => candle.high),
        lows: body.candles.map((candle) => candle.low),
        newestOpen: body.candles.at(-1)?.complete === false, // its interval is not over
      };
    } else {
      const entries = Object.entries(body.history);
      state.history = {
        type,
        symbol,
        range,
        times: entries.map(([time]) => Date.parse(time) / 1000),
        values: entries.map(([, value]) => value),
      };
    }
    renderMetric();
  }

  /** Source health and recent alerts exist once their features are deployed: hide them on 404. */
  async function loadExtras() {
    for (const [path, key, panel, target, limit] of [
      ["/sources", "sources", "#sources-panel", "#sources", 50],
      ["/alerts?limit=20", "alerts", "#alerts-panel", "#alerts", 20],
    ]) {
      const { status, body } = await api(path).catch(() => ({ status: 0, body: null }));
      const rows = status === 200 ? (Array.isArray(body?.[key]) ? body[key] : Object.values(body ?? {}).find(Array.isArray)) : null;
      if (key === "sources") state.sources = rows;
      $(panel).hidden = !rows;
      if (rows) $(target).replaceChildren(key === "sources" ? sourcesTable(rows) : alertsTable(rows.slice(0, limit)));
    }
  }

  /** Refresh everything the page shows (after a tick). */
  async function refresh() {
    await route(true);
    await loadExtras();
  }

  /**
   * Ask / whether a tick landed, and reload what changed; the first call loads
   * everything. Whatever happens, the next poll is scheduled: the page never
   * stops refreshing.
   */
  async function poll() {
    try {
      const status = await must("/");
      renderStatus(status);
      if (state.types.length === 0) {
        const types = await must("/metric_types");
        state.types = types.metric_types.map((type) => type.metric_type);
      }
      if (state.lastTick === undefined || status.last_tick !== state.lastTick) {
        await refresh();
      } else if (!status.last_tick) {
        // Before the first stored tick, follow the sources: is it coming, or does every source fail?
        await loadExtras();
      }
      // Only once its data is shown: a refresh that failed is tried again at the next poll.
      state.lastTick = status.last_tick;
      renderStatus(status); // again: the sources may have changed what it says
      if (!state.history) renderMetric(); // so may the empty state
      document.body.dataset.ready = "true";
    } catch (err) {
      showError(err);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // --- rendering ----------------------------------------------------------------

  /** The latest tick read sources and none answered (from /sources): its time, else null. */
  function noSourceAnswered() {
    const rows = state.sources ?? [];
    return rows.length > 0 && rows.every((row) => row.status === "error") ? rows[0].tick : null;
  }

  function renderStatus(status) {
    const el = $("#status");
    if (!status.last_tick) {
      const failedTick = noSourceAnswered();
      el.textContent = failedTick
        ? `No source answered the latest tick (${formatTime(Date.parse(failedTick))}): no data yet`
        : "Waiting for the first tick (at the start of the next minute)…";
      el.classList.toggle("stale", Boolean(failedTick));
      return;
    }
    const age = status.last_tick_age_seconds;
    el.textContent =
      `Last tick ${formatTime(Date.parse(status.last_tick))}` +
      (age === null ? "" : ` · ${age} s ago`) +
      (status.sources ? ` · sources ${status.sources}` : "");
    el.classList.toggle("stale", age !== null && age > 180);
    el.dataset.lastTick = status.last_tick;
  }

  function renderTypes() {
    $("#types").replaceChildren(
      ...state.types.map((type) => {
        const button = element("button", { type: "button", "aria-pressed": String(type === state.type) }, type);
        button.addEventListener("click", () => {
          if (type === state.type) return;
          state.query = "";
          $("#search").value = "";
          location.hash = linkTo(type, null);
        });
        return button;
      }),
    );
  }

  /** The chosen chart range and volatility window: pressed buttons and the ranking's title. */
  function renderChoices() {
    for (const button of document.querySelectorAll("#ranges button")) {
      button.setAttribute("aria-pressed", String(button.dataset.range === state.range));
    }
    for (const button of document.querySelectorAll("#windows button")) {
      button.setAttribute("aria-pressed", String(button.dataset.window === state.rankWindow));
    }
    $("#ranking-title").textContent = `Volatility, last ${WINDOWS[state.rankWindow]}`;
  }

  function renderList() {
    const query = state.query.trim().toLowerCase();
    const rows = state.latest.filter((row) => row.symbol.includes(query));
    $("#metrics").replaceChildren(
      ...rows.map((row) =>
        element(
          "li",
          {},
          element(
            "a",
            {
              href: linkTo(state.type, row.symbol),
              "aria-current": String(row.symbol === state.symbol),
              dataset: { symbol: row.symbol, value: String(row.value) },
            },
            element("span", { className: "symbol" }, row.symbol),
            ...("change_24h" in row ? [changeBadge(row.change_24h)] : []),
            element("span", { className: "value" }, formatValue(row.value)),
          ),
        ),
      ),
    );
    $("#metrics-count").textContent =
      state.latest.length === 0
        ? "No metric has a point in the last 24 h yet."
        : query
          ? `${rows.length} of ${state.latest.length} ${state.type} metrics`
          : `${state.latest.length} ${state.type} metrics`;
  }

  function renderRanking() {
    const { key, dir } = state.sort;
    const rows = [...state.ranking].sort((a, b) => {
      const order = key === "symbol" ? a.symbol.localeCompare(b.symbol) : a[key] - b[key] || a.symbol.localeCompare(b.symbol);
      return order * dir;
    });
    for (const th of document.querySelectorAll("#ranking th")) {
      th.setAttribute("aria-sort", th.dataset.key === key ? (dir === 1 ? "ascending" : "descending") : "none");
    }
    const body = $("#ranking tbody");
    body.replaceChildren(
      ...rows.map((row) => {
        const selected = row.symbol === state.symbol;
        const tr = element(
          "tr",
          { className: selected ? "selected" : "", "aria-selected": String(selected), dataset: { symbol: row.symbol } },
          element("td", { className: "num" }, String(row.rank)),
          element("td", {}, row.symbol),
          element("td", { className: "num", title: String(row.stddev) }, formatValue(row.stddev)),
        );
        tr.addEventListener("click", () => (location.hash = linkTo(state.type, row.symbol)));
        return tr;
      }),
    );
    const selectedRow = body.querySelector("tr.selected");
    const scroller = $("#ranking-scroll");
    if (selectedRow && (selectedRow.offsetTop < scroller.scrollTop || selectedRow.offsetTop > scroller.scrollTop + scroller.clientHeight - 40)) {
      scroller.scrollTop = selectedRow.offsetTop - scroller.clientHeight / 2;
    }
  }

  function renderMetric() {
    const current = state.history;
    const title = $("#selected");
    if (!current) {
      title.replaceChildren(state.latest.length ? "Choose a metric" : "No data yet");
      $("#selected-meta").replaceChildren(
        state.latest.length
          ? ""
          : noSourceAnswered()
            ? element(
                "span",
                { id: "no-source" },
                "No exchange could be read at the latest tick (see Sources). Without network access, ",
                element("code", {}, "npm run seed"),
                " fills the local database with a day of synthetic history to look at.",
              )
            : "The tracker stores its first points at the next tick (every minute).",
      );
      $("#chart-caption").textContent = "";
      $("#markets-block").hidden = true;
      drawChart(null);
      return;
    }
    title.replaceChildren(current.symbol, element("small", {}, current.type));
    const rank = state.ranking.find((row) => row.symbol === current.symbol);
    const spec = RANGES[current.range];
    // The API's figures (/latest, as the list shows them): the 24 h ending at the latest tick,
    // not the chart's 24 h before now, so the header and the list agree.
    const figures = state.latest.find((row) => row.symbol === current.symbol);
    // The latest value: the history's newest point, or /latest's beside candles (a close is not one).
    const latest = spec.interval
      ? figures && { value: figures.value, time: Date.parse(figures.time) }
      : current.values.length > 0 && { value: current.values.at(-1), time: current.times.at(-1) * 1000 };
    if (current.error && !spec.interval) $("#selected-meta").textContent = current.error;
    else {
      const windowName = state.rankWindow === DEFAULT_WINDOW ? "" : ` over ${WINDOWS[state.rankWindow]}`;
      $("#selected-meta").replaceChildren(
        latest ? `Latest ${formatValue(latest.value)} at ${formatTime(latest.time)} · 24 h ` : "24 h ",
        changeBadge(figures?.change_24h),
        ...dayRange(figures),
        rank ? ` · volatility rank ${rank.rank} of ${state.ranking.length}${windowName} (std dev ${formatValue(rank.stddev)})` : "",
      );
    }
    const count = current.values.length;
    const kind = spec.interval === "1h" ? "hourly candle" : "daily candle";
    $("#chart-caption").textContent = !spec.interval
      ? `${count} points in the last 24 h`
      : count === 0
        ? ""
        : `${count} ${kind}${count === 1 ? "" : "s"} ${spec.during}: the closes and the high–low band` +
          (current.newestOpen ? "; the newest is still open" : "");
    $("#chart").dataset.points = String(count);
    Object.assign($("#chart").dataset, { type: current.type, symbol: current.symbol, range: current.range });
    drawChart(current);
    renderMarkets();
  }

  /** What the chart area says instead of a chart: a range without candles yet, or an error. */
  function chartEmptyText(current) {
    const spec = RANGES[current.range];
    if (!spec.interval) return current.error ? "" : "No point in the last 24 h.";
    const [kind, unit] = spec.interval === "1h" ? ["hourly", "hour"] : ["daily", "day"];
    if (current.error) return `The ${kind} candles could not be loaded: ${current.error}`;
    return `No ${kind} candle ${spec.during} yet: the tracker writes one per ${unit} from its minute values, and keeps them beyond the 24 h of those.`;
  }

  /** The 24 h low and high /latest gives for a metric (none while the tracker rebuilds them). */
  function dayRange(row) {
    if (!row || row.min_24h === null || row.min_24h === undefined) return [];
    return [" · 24 h range ", element("span", { className: "range", dataset: { min: String(row.min_24h), max: String(row.max_24h) } }, `${formatValue(row.min_24h)} – ${formatValue(row.max_24h)}`)];
  }

  /** A relative change as a signed percentage, coloured up (green) or down (red). */
  function changeBadge(change) {
    if (change === null || change === undefined) return element("span", { className: "change", title: "fewer than 2 points in 24 h" }, "–");
    const text = signedPercent(change);
    const direction = change > 0 ? "up" : change < 0 ? "down" : "flat";
    return element("span", { className: `change ${direction}`, dataset: { change: String(change) }, "aria-label": `24 h change ${text}` }, text);
  }

  const REASONS = {
    outlier: "outlier",
    duplicate: "duplicate (counted from another source)",
    no_usable_value: "no usable value",
    non_finite: "out of range",
    no_consensus: "no consensus",
    ambiguous_pair: "ambiguous pair",
  };

  /** The chosen metric's markets (/markets): what made its latest value, and what was left out. */
  function renderMarkets() {
    const block = $("#markets-block");
    const answer = state.markets;
    const current = state.history;
    if (!answer || !current || answer.symbol !== current.symbol || answer.metric_type !== current.type) {
      block.hidden = true;
      return;
    }
    block.hidden = false;
    const price = answer.metric_type === "price";
    const included = answer.markets.filter((market) => market.included).length;
    $("#markets-meta").textContent =
      answer.markets.length === 0
        ? answer.complete
          ? `No point in the latest tick: the latest value is from ${formatTime(Date.parse(answer.time))}.`
          : "No breakdown was kept for this tick (stored before the tracker kept them, or too large)."
        : `${included} of ${answer.markets.length} ${price ? "markets in the mean" : "market sides in the sum"} at ${formatTime(Date.parse(answer.time))}` +
          (price && answer.median !== null ? ` · median ${formatValue(answer.median)}, tolerance ±${percent.format(answer.tolerance)}` : "") +
          (answer.complete ? "" : " · incomplete: a source's breakdown was too large to keep");
    if (answer.markets.length === 0) {
      $("#markets").replaceChildren();
      return;
    }
    const columns = price
      ? [["Exchange"], ["Last", "num"], ["Counted"], ["Deviation", "num"], ["Base volume", "num"], ["Quote volume", "num"]]
      : [["Exchange"], ["Market"], ["Side"], ["Amount", "num"], ["Counted"], ["Last", "num"]];
    const rows = answer.markets.map((market) => {
      const counted = element("td", { className: "reason" }, market.included ? "included" : REASONS[market.reason] ?? market.reason);
      const quote = element(
        "td",
        { className: "num", title: market.quote_volume_derived ? "derived: base volume × VWAP or last price" : "reported" },
        formatValue(market.quote_volume) + (market.quote_volume_derived ? "*" : ""),
      );
      const cells = price
        ? [
            element("td", { title: `source: ${market.source}` }, market.exchange),
            element("td", { className: "num", title: String(market.last) }, formatValue(market.last)),
            counted,
            element("td", { className: "num" }, market.deviation === null ? "–" : signedPercent(market.deviation)),
            element("td", { className: "num" }, formatValue(market.base_volume)),
            quote,
          ]
        : [
            element("td", { title: `source: ${market.source}` }, market.exchange),
            element("td", {}, market.pair),
            element("td", {}, market.side),
            element(
              "td",
              { className: "num", title: market.side === "quote" && market.quote_volume_derived ? "derived quote volume" : "" },
              formatValue(market.amount ?? (market.side === "base" ? market.base_volume : market.quote_volume)) +
                (market.side === "quote" && market.quote_volume_derived ? "*" : ""),
            ),
            counted,
            element("td", { className: "num" }, formatValue(market.last)),
          ];
      return element(
        "tr",
        {
          className: [market.included ? "included" : "excluded", market.reason ?? ""].join(" ").trim(),
          dataset: { exchange: market.exchange, source: market.source, ...(market.pair ? { pair: market.pair, side: market.side } : {}) },
        },
        ...cells,
      );
    });
    $("#markets").replaceChildren(
      element(
        "table",
        { id: "markets-table" },
        element("thead", {}, element("tr", {}, ...columns.map(([name, className]) => element("th", { scope: "col", className: className ?? "" }, name)))),
        element("tbody", {}, ...rows),
      ),
      ...(answer.markets.some((market) => market.quote_volume_derived) ? [element("p", { className: "muted" }, "* quote volume derived by the tracker: base volume × the exchange's VWAP (or last price)")] : []),
    );
  }

  /**
   * The minute history as a line; candles as their closes with the high–low band
   * (series 2 and 3, filled between). Same metric and kind: new data in place.
   */
  function drawChart(current) {
    const container = $("#chart");
    if (!current || current.values.length === 0) {
      chart?.destroy();
      chart = null;
      chartKind = null;
      window.trackerDashboard.chart = null;
      const empty = current ? chartEmptyText(current) : "";
      container.replaceChildren(...(empty ? [element("p", { className: "chart-empty", role: "status" }, empty)] : []));
      return;
    }
    const interval = RANGES[current.range].interval;
    const data = interval ? [current.times, current.values, current.highs, current.lows] : [current.times, current.values];
    const label = `${current.type} ${current.symbol}`;
    const kind = interval ? "candles" : "line";
    if (chart && chart.series[1].label === label && chartKind === kind) {
      chart.setData(data);
      return;
    }
    chart?.destroy();
    container.replaceChildren();
    const width = container.clientWidth || 600;
    const showPoints = current.values.length < 60;
    const edge = { stroke: "rgba(31,111,235,0.35)", width: 1, points: { show: false } };
    chart = new uPlot(
      {
        width,
        height: width < 500 ? 220 : 300,
        legend: { show: false },
        cursor: { points: { size: 7 }, drag: { x: true, y: false } },
        scales: { x: { time: true } },
        // Axis labels in UTC, like every time the API and this page show.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        series: interval
          ? [{}, { label, stroke: "#1f6feb", width: 1.5, points: { show: showPoints } }, { label: "high", ...edge }, { label: "low", ...edge }]
          : [{}, { label, stroke: "#1f6feb", width: 1.5, fill: "rgba(31,111,235,0.08)", points: { show: showPoints } }],
        bands: interval ? [{ series: [2, 3], fill: "rgba(31,111,235,0.15)" }] : [],
        axes: [{}, { size: 70, values: (_, ticks) => ticks.map(formatValue) }],
        hooks: { setCursor: [showTooltip] },
      },
      data,
      container,
    );
    chartKind = kind;
    window.trackerDashboard.chart = chart;
  }

  /** The value (and time) under the cursor, next to it. */
  function showTooltip(u) {
    const tooltip = $("#tooltip");
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.left < 0) {
      tooltip.hidden = true;
      return;
    }
    const box = u.over.getBoundingClientRect();
    const time = formatTime(u.data[0][idx] * 1000);
    tooltip.textContent =
      u.data.length === 4
        ? `close ${formatValue(u.data[1][idx])} · high ${formatValue(u.data[2][idx])} · low ${formatValue(u.data[3][idx])} · ` +
          (RANGES[state.history?.range ?? DEFAULT_RANGE].interval === "1d" ? `${time.slice(0, 10)} UTC` : time)
        : `${formatValue(u.data[1][idx])} · ${time}`;
    tooltip.hidden = false;
    const x = box.left + u.valToPos(u.data[0][idx], "x");
    const y = box.top + u.valToPos(u.data[1][idx], "y");
    tooltip.style.left = `${Math.max(4, Math.min(x + 12, window.innerWidth - tooltip.offsetWidth - 4))}px`;
    tooltip.style.top = `${Math.max(4, y - tooltip.offsetHeight - 10)}px`;
  }

  /**
   * GET /sources: one row per exchange, failures first-class. Each cell carries its
   * column's name (data-label): at phone width a row is shown as a card of labelled lines.
   */
  function sourcesTable(rows) {
    const time = (iso) => (iso ? formatTime(Date.parse(iso)).slice(11) : "–");
    const COLUMNS = [["Source"], ["Status", "state"], ["Markets", "num"], ["Latency", "num"], ["Last success"]];
    // The row names its source: "error: could not reach ...", not "error: kraken: could not reach ...".
    const failure = (row) => {
      const error = row.error ?? "";
      return error.startsWith(`${row.source}: `) ? error.slice(row.source.length + 2) : error;
    };
    return element(
      "table",
      { id: "sources-table" },
      element(
        "thead",
        {},
        element("tr", {}, ...COLUMNS.map(([name, className]) => element("th", { scope: "col", className: className === "num" ? "num" : "" }, name))),
      ),
      element(
        "tbody",
        {},
        ...rows.map((row) =>
          element(
            "tr",
            { className: row.status === "ok" ? "ok" : "error", dataset: { source: row.source }, title: row.error ?? row.last_error_message ?? "" },
            ...[
              row.source,
              row.status === "ok" ? "ok" : `error: ${failure(row)}`,
              String(row.markets),
              `${row.latency_ms} ms`,
              time(row.last_success),
            ].map((text, i) => element("td", { className: COLUMNS[i][1] ?? "", dataset: { label: COLUMNS[i][0] } }, text)),
          ),
        ),
      ),
    );
  }

  /** GET /alerts: newest first; each names its metric, which the link opens. */
  function alertsTable(rows) {
    if (rows.length === 0) return element("p", { className: "muted" }, "No alert in the last 30 days.");
    return element(
      "table",
      { id: "alerts-table" },
      element(
        "thead",
        {},
        element("tr", {}, ...[["Tick"], ["Metric"], ["Value", "num"], ["Hour mean", "num"], ["Webhook"]].map(([name, className]) =>
          element("th", { scope: "col", className: className ?? "" }, name),
        )),
      ),
      element(
        "tbody",
        {},
        ...rows.map((alert) =>
          element(
            "tr",
            { dataset: { id: String(alert.id) } },
            element("td", {}, formatTime(Date.parse(alert.time))),
            element("td", {}, element("a", { href: linkTo(alert.metric_type, alert.symbol) }, `${alert.metric_type} ${alert.symbol}`)),
            element("td", { className: "num" }, formatValue(alert.value)),
            element("td", { className: "num" }, formatValue(alert.average)),
            element("td", { title: alert.delivery?.last_error ?? "" }, alert.delivery?.state ?? "–"),
          ),
        ),
      ),
    );
  }

  // --- wiring -----------------------------------------------------------------

  $("#search").addEventListener("input", (event) => {
    state.query = event.target.value;
    renderList();
  });
  $("#search").addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const first = $("#metrics a");
    if (first) location.hash = first.getAttribute("href");
  });
  for (const th of document.querySelectorAll("#ranking th")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.key;
      state.sort = state.sort.key === key ? { key, dir: -state.sort.dir } : { key, dir: key === "stddev" ? -1 : 1 };
      renderRanking();
    });
  }
  // A range or window is part of the link: choosing one is a step back/forward returns to.
  for (const button of document.querySelectorAll("#ranges button")) {
    button.addEventListener("click", () => {
      if (state.type && button.dataset.range !== state.range) location.hash = linkTo(state.type, state.symbol, { range: button.dataset.range });
    });
  }
  for (const button of document.querySelectorAll("#windows button")) {
    button.addEventListener("click", () => {
      if (state.type && button.dataset.window !== state.rankWindow) location.hash = linkTo(state.type, state.symbol, { rankWindow: button.dataset.window });
    });
  }
  window.addEventListener("hashchange", () => route().catch(showError));
  new ResizeObserver(() => {
    const width = $("#chart").clientWidth;
    if (chart && width && Math.abs(width - chart.width) > 2) chart.setSize({ width, height: width < 500 ? 220 : 300 });
  }).observe($("#chart"));

  function showError(err) {
    $("#status").textContent = `Cannot reach the tracker: ${err.message}`;
    $("#status").classList.add("stale");
  }

  // For tests and the curious: the live state and the chart.
  window.trackerDashboard = { state, chart: null, refresh };

  poll();
})();
