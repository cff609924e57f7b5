package plan

import "strings"

// redacted stands for a credential left out of what forge prints and
// records.
const redacted = "xxxxx"

// redactURL returns s with the user information of a URL (a user name and
// password, or a token in their place) replaced by xxxxx, as in
// https://xxxxx@example.com/repo.git. Anything else is returned unchanged.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return s
	}
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return s
	}
	return scheme + "://" + redacted + rest[at:]
}

// redactCacheAttr returns the value of a cache attribute as forge prints
// and records it: credentials (token, secret_access_key and the like) as
// xxxxx, URLs without their user information.
func redactCacheAttr(key, value string) string {
	if LooksSecret(key) {
		return redacted
	}
	return redactURL(value)
}
