/** Keys of a build result's metadata that exporters read (BuildKit's exporter/containerimage/exptypes). */

/** The image config JSON a frontend made for the result (exptypes.ExporterImageConfigKey). */
export const IMAGE_CONFIG_KEY = "containerimage.config";
/** JSON `{"Platforms":[{"ID","Platform"}]}` naming the result's platforms (exptypes.ExporterPlatformsKey). */
export const PLATFORMS_KEY = "refs.platforms";
