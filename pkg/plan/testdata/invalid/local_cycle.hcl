# want: 3:7 | Cycle between local values | local.a → local.b → local.a
locals {
  a = local.b
  b = local.a
}
