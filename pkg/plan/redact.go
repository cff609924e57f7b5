package plan

import "strings"

// redacted stands for a credential left out of what forge prints and
// records.
const redacted = "xxxxx"

// redactURL returns s with the credentials a URL can carry replaced by
// xxxxx: its user information (a user name and password, or a token in
// their place), as in https://xxxxx@example.com/repo.git, and the values of
// query parameters that sign or authorize it, as in a shared access
// signature's sig=xxxxx. Anything else is returned unchanged.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return s
	}
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		rest = redacted + rest[at:]
	}
	return scheme + "://" + redactQuery(rest)
}

// redactQuery redacts the credential parameters of the query in rest, the
// part of a URL after its scheme.
func redactQuery(rest string) string {
	start := strings.IndexByte(rest, '?')
	if start < 0 {
		return rest
	}
	end := len(rest)
	if hash := strings.IndexByte(rest[start:], '#'); hash >= 0 {
		end = start + hash
	}
	params := strings.Split(rest[start+1:end], "&")
	for i, p := range params {
		if name, _, ok := strings.Cut(p, "="); ok && credentialParam(name) {
			params[i] = name + "=" + redacted
		}
	}
	return rest[:start+1] + strings.Join(params, "&") + rest[end:]
}

// credentialParam reports whether a URL query parameter carries a
// credential: one named like a secret (access_token, X-Amz-Credential,
// X-Amz-Security-Token), a signature (sig, X-Amz-Signature) or an API key.
func credentialParam(name string) bool {
	lower := strings.ToLower(name)
	return LooksSecret(name) || lower == "sig" || lower == "key" || lower == "auth" ||
		strings.HasSuffix(lower, "signature")
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
