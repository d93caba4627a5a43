// Package e2e holds the browser tests of the PWA: headless Chromium driven
// by chromedp against a real prodays server (api.Server with the real
// auth and sync engine, on a real SQLite file; a thin fault-injecting
// handler in front of it for 429, 503 and 409 resync). It has no code of
// its own; see the _test.go files. The accessibility test injects the
// vendored axe-core of testdata/axe.
//
// The tests find Chromium at /usr/bin/chromium or $PRODAYS_CHROMIUM and
// skip when it is absent, unless PRODAYS_REQUIRE_BROWSER=1 (CI), which
// turns the skip into a failure. PRODAYS_SCREENSHOTS names a folder for the
// screenshots (default: a temporary folder).
package e2e
