import JALMLayerKit
import JALMWire
import RenderHTMLKit

// The render-html layer: Mustache templates (inline or beneath <data>/templates) and Markdown, to HTML.
// JALM_TEMPLATES_ROOT overrides the templates folder (tests).
await LayerKit.serve(layer: "render-html", version: jalmVersion) { setup in
    try RenderHTMLHandler(templates: LayerSetup.env(SpawnEnvironment.templatesRoot) ?? setup.dataDir + "/templates",
                          config: setup.config)
}
