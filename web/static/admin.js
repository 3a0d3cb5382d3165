// The staff's admin page: calls only the admin JSON API (/api/admin/...) with the staff token, which is
// kept in sessionStorage (this tab only, gone when it closes). Every value from the API is put on the
// page as text (textContent), never as HTML: pseudonyms and rejected payloads come from outside.
(function () {
  "use strict";

  const API = "/api/admin";
  const TOKEN_KEY = "contest-admin-token";
  const texts = JSON.parse(document.getElementById("admin-texts").textContent);
  const lang = document.documentElement.lang || "de";
  const $ = (id) => document.getElementById(id);
  const state = { contest: null, households: [] };

  function t(key, vars) {
    let text = texts[key] || key;
    for (const [name, value] of Object.entries(vars || {})) text = text.replace("{" + name + "}", String(value));
    return text;
  }

  // A finding's or a rejected record's stable key in the page's language; its English detail (kept as
  // the cell's tooltip) where the catalog has no sentence for the key.
  function explained(row, key, detail) {
    const td = cell(row, texts[key] || detail);
    if (texts[key] && detail) td.title = detail;
    return td;
  }

  // Times in the open contest's own zone (without one open: the browser's).
  function when(iso, timeZone) {
    if (!iso) return "–";
    const zone = timeZone || (state.contest ? state.contest.timezone : undefined);
    const options = { dateStyle: "short", timeStyle: "short", timeZone: zone };
    return new Intl.DateTimeFormat(lang, options).format(new Date(iso));
  }

  function day(iso) {
    if (!iso) return "–";
    const [y, m, d] = iso.split("-");
    return lang === "de" ? `${d}.${m}.${y}` : iso;
  }

  function number(value, digits) {
    if (value === null || value === undefined) return "–";
    return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value);
  }

  function say(message) {
    $("status").textContent = message;
    $("error").hidden = true;
  }

  function fail(error) {
    $("error").textContent = `${t("admin_error")}: ${error.message || error}`;
    $("error").hidden = false;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}`, Accept: "application/json" };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init);
    if (response.status === 401) {
      signOut();
      throw new ApiError(401, t("admin_token_invalid"));
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const problem = await response.json();
        detail = problem.detail || detail;
        if (problem.extra) detail += " " + JSON.stringify(problem.extra);
      } catch (_) { /* not JSON */ }
      throw new ApiError(response.status, detail);
    }
    if (response.status === 204) return null;
    const type = response.headers.get("content-type") || "";
    return type.includes("json") ? response.json() : response.blob();
  }

  // --- small DOM helpers ------------------------------------------------------------------------
  function cell(row, text, className, header) {
    const td = document.createElement(header ? "th" : "td");
    if (header) td.scope = "row";
    if (className) td.className = className;
    td.textContent = text === null || text === undefined ? "–" : String(text);
    row.appendChild(td);
    return td;
  }

  function button(label, onClick, className, description) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    if (className) b.className = className;
    if (description) b.setAttribute("aria-label", description);
    b.addEventListener("click", onClick);
    return b;
  }

  function fill(tableId, emptyId, items, render) {
    const body = $(tableId).querySelector("tbody");
    body.replaceChildren();
    for (const item of items) {
      const row = document.createElement("tr");
      render(row, item);
      body.appendChild(row);
    }
    $(tableId).hidden = items.length === 0;
    $(emptyId).hidden = items.length > 0;
  }

  // --- signing in -----------------------------------------------------------------------------
  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.contest = null;
    $("workspace").hidden = true;
    $("contest").hidden = true;
    $("signin").hidden = false;
  }

  async function start() {
    try {
      await loadContests();
      $("signin").hidden = true;
      $("workspace").hidden = false;
      say(t("admin_signed_in"));
      await Promise.all([loadRejected(), loadUnboundDevices()]);
    } catch (error) {
      fail(error);
    }
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });

  $("sign-out").addEventListener("click", () => {
    signOut();
    say(t("admin_signed_out"));
  });

  // --- contests -------------------------------------------------------------------------------
  async function loadContests() {
    const contests = await api("GET", "/contests");
    fill("contests", "no-contests", contests, (row, c) => {
      cell(row, c.slug, null, true);
      cell(row, c.name);
      cell(row, t(`admin_status_${c.status}`));
      cell(row, `${day(c.competition.start)} – ${day(c.competition.end)}`);
      cell(row, c.households, "num");
      const actions = cell(row, "");
      actions.appendChild(button(t("admin_open"), () => openContest(c.slug).catch(fail), null, `${t("admin_open")}: ${c.name}`));
    });
  }

  async function openContest(slug) {
    say(t("admin_loading"));
    const contest = await api("GET", `/contests/${encodeURIComponent(slug)}`);
    state.contest = contest;
    $("contest-name").textContent = contest.name;
    $("contest-meta").textContent =
      `${contest.slug} · ${t(`admin_status_${contest.status}`)} · ${day(contest.competition.start)} – ` +
      `${day(contest.competition.end)} · ${contest.households} ${t("admin_households")}`;
    $("contest").hidden = false;
    $("new-code").hidden = true;
    $("edit-form").hidden = true;
    await Promise.all([loadSeason(), loadHouseholds(), loadFlags(), loadSnapshots()]);
    say("");
  }

  // --- the season: state, last publication and error, staff's changes, log, late data -------------
  async function loadSeason() {
    const season = await api("GET", contestPath("/season"));
    $("season-state").textContent = t(`admin_status_${season.status}`);
    $("season").dataset.state = season.status;
    $("season-grace").textContent = day(season.grace_end);
    $("season-published").textContent = season.last_published_at ? when(season.last_published_at) : t("admin_never");
    const error = $("season-error");
    error.hidden = !season.last_error;
    error.textContent = season.last_error ? `${t("admin_last_error")} (${when(season.last_error_at)}): ${season.last_error}` : "";
    $("season-announce").hidden = season.status !== "draft";
    $("season-close").hidden = !["running", "closing"].includes(season.status);
    $("season-reopen").hidden = !["final", "archived"].includes(season.status);
    $("season-archive").hidden = season.status !== "final";
    fill("season-events", "no-season-events", season.events, (row, e) => {
      cell(row, when(e.at), null, true);
      cell(row, `${t(`admin_status_${e.from_state}`)} → ${t(`admin_status_${e.to_state}`)}`);
      cell(row, e.actor === "clock" ? t("admin_actor_clock") : e.actor);
      cell(row, e.reason || (e.actor === "clock" && e.to_state === "final" ? t("admin_grace_over") : ""));
    });
    fill("late-imports", "no-late-imports", season.late_imports, (row, i) => {
      cell(row, when(i.created_at), null, true);
      cell(row, i.meter);
      cell(row, i.filename || i.source);
      cell(row, number(i.rows_stored, 0), "num");
    });
  }

  async function changeSeason(action) {
    if (action === "close" && !window.confirm(t("admin_close_confirm"))) return;
    const reason = $("season-reason").value.trim();
    const season = await api("POST", contestPath(`/${action}`), action === "announce" ? undefined : { reason: reason || null });
    $("season-reason").value = "";
    await openContest(state.contest.slug);
    await loadContests();
    say(t("admin_season_done", { state: t(`admin_status_${season.status}`) }));
  }

  for (const action of ["announce", "close", "reopen", "archive"]) {
    $(`season-${action}`).addEventListener("click", () => changeSeason(action).catch(fail));
  }

  function contestPath(suffix) {
    return `/contests/${encodeURIComponent(state.contest.slug)}${suffix}`;
  }

  // --- households -----------------------------------------------------------------------------
  async function loadHouseholds() {
    state.households = await api("GET", contestPath("/households"));
    fill("households", "no-households", state.households, (row, h) => {
      row.id = `household-${h.id}`;
      cell(row, h.id, "num");
      cell(row, h.pseudonym, null, true);
      cell(row, h.team || t("admin_no_team"));
      cell(row, h.persons, "num");
      cell(row, number(h.living_area_m2, 1), "num");
      cell(row, h.public ? t("admin_yes") : t("admin_no"));
      cell(row, h.meters.join(", "));
      cell(row, day(h.last_data_day));
      const actions = cell(row, "");
      actions.appendChild(button(t("admin_edit"), () => editHousehold(h), "link", `${t("admin_edit")}: ${h.pseudonym}`));
      actions.appendChild(document.createTextNode(" · "));
      actions.appendChild(button(t("admin_new_code"), () => newCode(h).catch(fail), "link", `${t("admin_new_code")}: ${h.pseudonym}`));
      actions.appendChild(document.createTextNode(" · "));
      actions.appendChild(button(t("admin_show_meters"), () => showMeters(h).catch(fail), "link", `${t("admin_show_meters")}: ${h.pseudonym}`));
    });
  }

  // --- a household's meters: devices, register series, last message, rejections (24 h) ----------------
  function lastMessage(m) {
    if (!m) return t("admin_no_message");
    const value = `${number(m.energy_kwh, 3)} kWh`;
    const outcome = m.rejection_key ? `${t("admin_rejected_as")}: ${texts[m.rejection_key] || m.rejection_reason || m.rejection_key}` : t("admin_stored");
    return `${when(m.received_at)} · ${value} · ${outcome}`;
  }

  async function showMeters(h) {
    const meters = await api("GET", `/households/${h.id}/meters`);
    $("meters-title").textContent = t("admin_meters_title", { name: h.pseudonym });
    fill("meters", "no-meters", meters, (row, m) => {
      cell(row, m.id, null, true);
      cell(row, `${m.carrier} · ${m.kind}`);
      cell(row, m.bindings.map((b) => `${b.device} (${b.channel})`).join(", ") || "–");
      cell(row, m.series.map((s) => `${s.device || t("admin_display")} ${t("admin_since")} ${s.starts_at ? when(s.starts_at) : "–"}`).join("; "));
      cell(row, lastMessage(m.last_message));
      cell(row, m.rejected_messages_24h, "num");
    });
    $("meters-card").hidden = false;
    $("meters-card").scrollIntoView({ block: "nearest" });
  }

  $("meters-close").addEventListener("click", () => {
    $("meters-card").hidden = true;
  });

  async function loadUnboundDevices() {
    const devices = await api("GET", "/devices/unbound");
    fill("unbound-devices", "no-unbound-devices", devices, (row, d) => {
      cell(row, d.device, null, true);
      cell(row, d.channel);
      cell(row, d.topic);
      cell(row, when(d.received_at));
      cell(row, `${number(d.energy_kwh, 3)} kWh`, "num");
    });
  }

  function editHousehold(h) {
    $("edit-title").textContent = t("admin_edit_title", { name: h.pseudonym });
    $("edit-id").value = String(h.id);
    const select = $("edit-team");
    select.replaceChildren();
    const none = new Option(t("admin_no_team"), "");
    select.appendChild(none);
    for (const team of state.contest.teams) select.appendChild(new Option(team.name, team.name));
    select.value = h.team || "";
    $("edit-persons").value = String(h.persons);
    $("edit-public").checked = h.public;
    $("edit-form").hidden = false;
    $("edit-team").focus();
  }

  $("edit-cancel").addEventListener("click", () => {
    $("edit-form").hidden = true;
  });

  $("edit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = Number($("edit-id").value);
    const change = {
      team: $("edit-team").value || null,
      persons: Number($("edit-persons").value),
      public: $("edit-public").checked,
    };
    try {
      await api("PATCH", `/households/${id}`, change);
      $("edit-form").hidden = true;
      await loadHouseholds();
      say(t("admin_saved"));
    } catch (error) {
      fail(error);
    }
  });

  async function newCode(h) {
    if (!window.confirm(t("admin_new_code_confirm", { name: h.pseudonym }))) return;
    const issued = await api("POST", `/households/${h.id}/access-code`);
    $("new-code-label").textContent = t("admin_new_code_done", { name: issued.pseudonym });
    $("new-code-value").textContent = issued.access_code;
    $("new-code").hidden = false;
    await loadHouseholds();
  }

  // --- flags, snapshots, publishing, results ----------------------------------------------------
  async function loadFlags() {
    const report = await api("GET", contestPath("/findings"));
    $("flags-as-of").textContent = t("admin_flags_as_of", { as_of: when(report.as_of, state.contest.timezone) });
    fill("flags", "no-flags", report.findings, (row, f) => {
      cell(row, f.pseudonym || f.subject, null, true);
      cell(row, f.key);
      explained(row, f.key, f.detail);
      const evidence = Object.assign({}, f.data);
      delete evidence.household_id;
      cell(row, JSON.stringify(evidence));
    });
  }

  async function loadSnapshots() {
    const snapshots = await api("GET", contestPath("/snapshots?limit=20"));
    fill("snapshots", "no-snapshots", snapshots, (row, s) => {
      cell(row, s.id, "num", true);
      cell(row, when(s.as_of, state.contest.timezone));
      cell(row, when(s.published_at, state.contest.timezone));
      cell(row, texts[`admin_reason_${s.reason}`] || s.reason);
      cell(row, s.final ? t("admin_yes") : t("admin_no"));
    });
  }

  $("publish").addEventListener("click", async () => {
    const publishButton = $("publish");
    publishButton.disabled = true;
    say(t("admin_loading"));
    try {
      const snapshot = await api("POST", contestPath("/publish"));
      await Promise.all([loadSnapshots(), loadFlags()]);
      say(t("admin_published", { id: snapshot.id }));
    } catch (error) {
      fail(error);
    } finally {
      publishButton.disabled = false;
    }
  });

  $("results-csv").addEventListener("click", async () => {
    try {
      const blob = await api("GET", contestPath("/results.csv"));
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `ergebnisse-${state.contest.slug}.csv`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      fail(error);
    }
  });

  // --- the rejected-records store ----------------------------------------------------------------
  async function loadRejected() {
    const records = await api("GET", "/rejected?limit=100");
    fill("rejected", "no-rejected", records, (row, r) => {
      cell(row, r.id, "num", true);
      cell(row, when(r.created_at));
      cell(row, r.source);
      cell(row, r.meter);
      cell(row, r.line_no !== null ? r.line_no : r.topic);
      explained(row, r.key, r.reason).append(` (${r.key})`);
      const raw = r.raw.length > 120 ? r.raw.slice(0, 120) + "…" : r.raw;
      cell(row, raw, "raw");
    });
  }

  if (sessionStorage.getItem(TOKEN_KEY)) start();
})();
