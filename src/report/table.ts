/** A table of the report (a leaf module: the table builders and the model both take it). */
export interface TableSpec {
  id: string;
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
  source: string;
  caption?: string;
  noData?: string;
  /** HTML: the rows sort by a click on a column heading. */
  sortable?: boolean;
}
