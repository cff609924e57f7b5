# want: 5:23 | Unknown variable | Did you mean "python"?
image "app" {
  matrix = { python = ["3.11", "3.12"] }
  name   = "app-${replace(python, ".", "")}"
  args   = { PYTHON = pyton }
}
