# want: 3:3 | Matrix images without names | name = "app-${python}"
image "app" {
  matrix = { python = ["3.11", "3.12"] }
}
