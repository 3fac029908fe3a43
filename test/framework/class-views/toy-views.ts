/** A toy view class for the framework's tests: a class default template, one view property, two views. */
import { viewConfig, viewDefaults, viewProperty } from '../../../src/framework/class-views/index.js'

@viewDefaults({ template: 'toy.hbs' })
export class ToyViews {
  /** Always 3: a view property joins every page of the class. */
  @viewProperty
  get visits (): number { return 3 }

  @viewConfig({ routeName: 'toy' })
  toy () { return { greeting: 'Hello' } }

  @viewConfig({ routeName: 'other', template: 'other.hbs' })
  other () { return { greeting: 'Hi' } }
}
