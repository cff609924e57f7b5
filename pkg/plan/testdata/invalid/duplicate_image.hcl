# want: 3:7 | Duplicate image block | already taken
image "app" {}
image "app" {}
