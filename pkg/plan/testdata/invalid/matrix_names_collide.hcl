# want: 4:12 | Duplicate image block | Two combinations of the matrix are named "app-3"
image "app" {
  matrix = { python = ["3.11", "3.12"] }
  name   = "app-${split(".", python)[0]}"
}
