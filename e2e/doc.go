// Package e2e holds the browser tests of the PWA: headless Chromium driven
// by chromedp against a real prodays server (real SQLite file). It has no
// code of its own; see the _test.go files.
//
// The tests find Chromium at /usr/bin/chromium or $PRODAYS_CHROMIUM and
// skip when it is absent, unless PRODAYS_REQUIRE_BROWSER=1 (CI), which
// turns the skip into a failure. PRODAYS_SCREENSHOTS names a folder for the
// screenshots (default: a temporary folder).
package e2e
