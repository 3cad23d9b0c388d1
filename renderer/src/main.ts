import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { connectHost } from './host';
import { router } from './router';
import { useLab } from './stores/lab';
import './style.css';

const app = createApp(App).use(createPinia()).use(router);
const lab = useLab();
void lab.connect(connectHost);
app.mount('#app');
