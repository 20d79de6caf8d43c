/* Warta desk: autosave of an item's form as a draft (warta.keep, /api/v1/drafts/...).
 *
 * Comfort only: the form works without this script; the server restores the draft when the
 * page opens again. Saves a few seconds after typing starts, when a field is left, and when
 * the page is hidden (a phone switching apps). Each save names the version it started from:
 * 409 means another tab or device saved since, and nothing is overwritten until the person
 * chooses to. Loaded as a same-origin file (CSP script-src 'self'): no inline script here.
 */
(function () {
  "use strict";

  var FIELDS = ["title", "body", "notes", "reason"];

  function start(form) {
    var url = form.getAttribute("data-keep-draft");
    var version = parseInt(form.getAttribute("data-keep-version") || "0", 10) || 0;
    var seconds = parseInt(form.getAttribute("data-keep-seconds") || "5", 10) || 5;
    var zone = form.getAttribute("data-keep-tz") || undefined;
    var csrf = form.elements.namedItem("csrf_token");
    var timer = null;
    var busy = false;
    var again = false;
    var halted = false;
    var sending = false;

    var status = document.createElement("p");
    status.className = "keep-status hint";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    status.setAttribute("data-testid", "keep-status");
    var submit = form.querySelector("[type=submit]");
    form.insertBefore(status, submit ? submit.closest(".buttons") || submit : null);

    function fields() {
      var values = {};
      FIELDS.forEach(function (name) {
        var element = form.elements.namedItem(name);
        if (element && typeof element.value === "string") {
          values[name] = element.value;
        }
      });
      return values;
    }

    var saved = JSON.stringify(fields());

    // A copy in this tab (sessionStorage: gone with the tab, never seen by the next user of
    // a shared PC) of what was typed but not saved yet: a reload faster than the save, or a
    // lost connection, must not lose it. It counts only while the server's draft is still
    // the version it was typed on; a sent or discarded form's copy is ignored.
    var storeKey = "warta-keep:" + (form.getAttribute("data-keep-user") || "") + ":" + url;

    function remember(values, basedOn) {
      try {
        window.sessionStorage.setItem(storeKey, JSON.stringify({fields: values, version: basedOn}));
      } catch (error) { /* storage full or disabled: the server's draft still holds */ }
    }

    function forget() {
      try {
        window.sessionStorage.removeItem(storeKey);
      } catch (error) { /* nothing kept */ }
    }

    function unsaved() {
      try {
        var copy = JSON.parse(window.sessionStorage.getItem(storeKey) || "null");
        return copy && copy.version === version ? copy.fields : null;
      } catch (error) {
        return null;
      }
    }

    function clock(iso) {
      try {
        return new Date(iso).toLocaleTimeString(document.documentElement.lang || "id",
          {hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: zone});
      } catch (error) {
        return "";
      }
    }

    function say(text, overwrite) {
      status.textContent = text;
      if (overwrite) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button secondary";
        button.setAttribute("data-testid", "keep-overwrite");
        button.textContent = form.getAttribute("data-keep-overwrite");
        button.addEventListener("click", function () {
          fetch(url, {credentials: "same-origin"}).then(function (response) {
            return response.ok ? response.json() : {version: 0};
          }).then(function (current) {
            version = current.version || 0;
            halted = false;
            save(true);
          });
        });
        status.appendChild(document.createTextNode(" "));
        status.appendChild(button);
      }
    }

    function save(force, leaving) {
      timer = null;
      if (sending || (halted && !force)) {
        return;
      }
      var values = fields();
      var body = JSON.stringify(values);
      if (!force && body === saved) {
        return;
      }
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      fetch(url, {
        method: "PUT",
        credentials: "same-origin",
        keepalive: !!leaving,
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.value : ""},
        body: JSON.stringify({fields: values, version: version})
      }).then(function (response) {
        if (response.ok) {
          return response.json().then(function (draft) {
            version = draft.version;
            form.setAttribute("data-keep-version", String(version));
            saved = body;
            if (JSON.stringify(fields()) === body) {
              forget();
            } else {
              remember(fields(), version);
            }
            say(form.getAttribute("data-keep-saved") + " " + clock(draft.updated_at));
          });
        }
        if (response.status === 409) {
          halted = true;
          say(form.getAttribute("data-keep-conflict"), true);
        } else if (response.status === 401 || response.status === 403) {
          say(form.getAttribute("data-keep-session"));
        } else {
          say(form.getAttribute("data-keep-failed"));
        }
      }).catch(function () {
        say(form.getAttribute("data-keep-failed"));
      }).then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
    }

    function schedule() {
      if (!timer) {
        timer = window.setTimeout(save, seconds * 1000);
      }
    }

    var copy = unsaved();
    if (copy && JSON.stringify(copy) !== saved) {
      FIELDS.forEach(function (name) {
        var element = form.elements.namedItem(name);
        if (element && typeof copy[name] === "string") {
          element.value = copy[name];
        }
      });
      save(false);
    } else {
      forget();
    }

    form.addEventListener("input", function () {
      remember(fields(), version);
      schedule();
    });
    form.addEventListener("focusout", function (event) {
      if (FIELDS.indexOf(event.target.name) >= 0) {
        save(false);
      }
    });
    form.addEventListener("submit", function () {
      // The submit itself carries the text (and deletes the draft once accepted).
      sending = true;
      forget();
      if (timer) {
        window.clearTimeout(timer);
      }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        save(false, true);
      }
    });
    window.addEventListener("pageshow", function () {
      sending = false;  // back from the bfcache after a submit
    });
  }

  function ready() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-keep-draft]"), start);
    // "Buang draf": the tab's unsaved copy goes with the draft.
    Array.prototype.forEach.call(document.querySelectorAll("form[data-keep-discard]"), function (discard) {
      discard.addEventListener("submit", function () {
        try {
          window.sessionStorage.removeItem(discard.getAttribute("data-keep-discard"));
        } catch (error) { /* nothing kept */ }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
}());
