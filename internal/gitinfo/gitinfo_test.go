package gitinfo

import "testing"

func TestWithoutCredentials(t *testing.T) {
	tests := map[string]string{
		"https://user:ghp_token@github.com/org/repo.git": "https://github.com/org/repo.git",
		"https://github.com/org/repo.git":                "https://github.com/org/repo.git",
		"git@github.com:org/repo.git":                    "git@github.com:org/repo.git",
	}
	for in, want := range tests {
		if got := withoutCredentials(in); got != want {
			t.Errorf("withoutCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}
