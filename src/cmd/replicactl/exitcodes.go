package main

// Exit codes, documented in the help text; scripts rely on them.
const (
	exitOK = 0
	// exitRefused: the server answered 4xx (not found, forbidden, stale
	// If-Match, invalid), --current-replicas did not match, or another
	// failure that is not a usage, connection or server error.
	exitRefused = 1
	// exitUsage: bad flags or arguments, or missing or unusable connection
	// settings.
	exitUsage = 2
	// exitConnection: no HTTP answer: unreachable, timed out, or a TLS
	// certificate refused on either side.
	exitConnection = 3
	// exitServerError: the server answered 5xx.
	exitServerError = 4
)
