# want: 2:15 | Missing required argument | "image" is required
service "web" {
  command = ["x"]
}
