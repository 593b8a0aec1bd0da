export const spec = { name: 'report', summary: 'tmp', usage: '', options: [] };
export async function run(): Promise<number> { return 0; }
