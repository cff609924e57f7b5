package check

import "testing"

func TestRunsStep(t *testing.T) {
	tests := []struct {
		script string
		want   bool
	}{
		{"python3 manage.py migrate --noinput", true},
		{"cd /app && python manage.py migrate", true},
		{"./bin/migrate up", true},
		{"/app/migrate", true},
		{"rake migrate", true},
		{`sh -c "python manage.py migrate"`, true},
		{"bash -ec 'set -x; ./manage.py migrate'", true},
		{"bash -c 'echo migrate'", false},
		{`if true; then python manage.py "migrate"; fi`, true},
		{"pip install -r requirements.txt # then migrate at release", false},
		{"mv migrate /usr/local/bin/", false},
		{"chmod +x /app/bin/migrate", false},
		{"echo 'run migrate at start'", false},
		{"go install github.com/golang-migrate/migrate/v4/cmd/migrate@v4.18.1", false},
		{"cp /src/migrate.sh /usr/local/bin/", false},
		// Not shell: searched as words.
		{"<<EOF\nimport os\nos.system('python manage.py migrate')", true},
	}
	for _, tt := range tests {
		step := "migrate"
		if got := runsStep(tt.script, step); got != tt.want {
			t.Errorf("runsStep(%q, %q) = %v, want %v", tt.script, step, got, tt.want)
		}
	}
}
