// Package rendercache stores rendered environments on disk, keyed by the
// content of every file the render read. A hit is proven by replaying the
// render's recorded filesystem observations, so an edit anywhere the render
// looked invalidates the entry and an edit anywhere else does not.
package rendercache
