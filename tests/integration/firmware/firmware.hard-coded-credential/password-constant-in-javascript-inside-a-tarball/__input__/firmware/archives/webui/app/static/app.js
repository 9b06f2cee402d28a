// web UI
const DEFAULT_PASSWORD = 'Nordl1cht!2024';
let p = this.password;
