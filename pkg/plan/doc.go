// Package plan turns a forge.hcl file into a validated build graph.
//
// The pipeline has three steps, each usable on its own:
//
//   - [Parser.Load] decodes the file into a [Config]: the image and service
//     blocks as written, with paths made absolute and every problem reported
//     as an hcl.Diagnostic carrying a source range;
//   - [New] selects what to build and groups services by the image they use,
//     so that each image becomes exactly one [Node] of the [Graph] however
//     many services run it;
//   - the graph is what the buildkit package solves and what the manifest
//     package records.
package plan
