# want: 2:13 | Unclosed configuration block | 
image "app" {
  context = "."
