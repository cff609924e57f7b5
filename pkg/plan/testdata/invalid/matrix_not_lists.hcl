# want: 3:12 | Invalid matrix | The values of "python" are not a list
image "app" {
  matrix = { python = "3.12" }
  name   = "app-${python}"
}
