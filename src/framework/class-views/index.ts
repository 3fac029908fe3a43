/**
 * Class-based views, after Pyramid's: named routes, decorators that say where a method is mounted
 * and how it renders, and `classViews` (a plugin) or `mountViews` (one class), the scan step that
 * wires them to Fastify. This file is the only import point for code outside this folder (eslint
 * refuses deeper imports).
 */
export { RouteTable } from './route-table.js'
export {
  viewDefaults, viewConfig, formView, viewProperty, viewsOf,
  type ViewRequest, type ViewData, type FormOutcome, type ViewConfig, type FormConfig
} from './decorators.js'
export { classViews, mountViews, DEFAULT_VIEW_MESSAGES, FRAMEWORK_PAGE_KEYS, type ClassViewsOptions, type ViewClass, type NavLink, type MountOptions, type ViewMessages } from './mount.js'
export { wantsJson } from './negotiate.js'
