/**
 * Azure flow tuples as they stand in a blob's `flowTuples` (docs/formats.md): NSG version 2 and
 * 1 and VNet, the usual ones and a few edge values (milliseconds, all-ones addresses, empty
 * counters). The Azure fast-path and WebAssembly readers' tests hold their readers to the
 * JavaScript tuple readers over these.
 */
export const NSG_V2 = [
  '1709258449,46.36.230.222,10.2.0.5,4400,443,T,I,D,B,,,,',
  '1709258541,10.2.0.5,10.2.0.11,54802,22,T,O,A,E,5,525,5,3235',
  '1709258541,10.2.0.5,10.2.0.11,54802,22,U,O,A,C,0,0,1,2',
  '1709258541000,10.2.0.5,10.2.0.11,0,65535,T,I,A,B,7,8,9,10',
  '1709258541,255.255.255.255,0.0.0.0,1,2,T,O,D,E,5,525,5,3235',
];
export const NSG_V1 = ['1709258449,46.36.230.222,10.2.0.5,4400,443,T,I,D', '1709258449,10.2.0.5,46.36.230.222,4400,443,U,O,A'];
export const VNET = [
  '1709258449000,46.36.230.222,10.2.0.5,4400,443,6,I,D,NX,0,0,0,0',
  '1709258449123,10.2.0.5,10.2.0.11,54802,22,17,O,E,NX,5,525,5,3235',
  '1709258449,10.2.0.5,10.2.0.11,54802,22,1,O,C,,5,,5,',
  '1709258449000,10.2.0.5,10.2.0.11,54802,22,255,I,B,EN,1,2,3,4',
];
